"""A slow e-mail backend for the fault drills: files like Django's, slower, with a ledger of sends.

Each message is written to EMAIL_FILE_PATH as Django's file backend does, after a pause of
DRILL_MAIL_DELAY seconds (a slow SMTP server taking the message), then one JSON line goes to
`sent.jsonl` there: the ledger the drill reads to count what left, and what left twice. A pause of
DRILL_MAIL_AFTER seconds follows (the server slow to say goodbye): a worker killed then has sent
the message without recording it, the at-least-once window the drill measures.
"""

import hashlib
import json
import os
import socket
import time

from django.core.mail.backends import filebased


def ledger_path(folder) -> str:
    return os.path.join(folder, "sent.jsonl")


class SlowFileBackend(filebased.EmailBackend):
    def write_message(self, message):
        time.sleep(float(os.environ.get("DRILL_MAIL_DELAY", "0.01")))
        super().write_message(message)
        line = json.dumps(
            {
                "to": list(message.to),
                "subject": message.subject,
                "body": hashlib.sha256(message.body.encode()).hexdigest(),
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "at": time.time(),
            }
        )
        # O_APPEND: whole lines even with several workers writing; a killed worker leaves no
        # half line behind a line it did write.
        fd = os.open(ledger_path(self.file_path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
        time.sleep(float(os.environ.get("DRILL_MAIL_AFTER", "0")))
