"""Mail servers on loopback for the tests and drills: one that hangs, and a real one (aiosmtpd)."""

from __future__ import annotations

import email
import socket
import threading
from collections import Counter

from aiosmtpd.controller import Controller


class HungSmtpServer:
    """A mail server that lets clients connect and never says a word.

    A listening socket that no thread serves: the kernel completes each handshake and queues the
    connection, so the client is connected and waits for a greeting that never comes.
    `connections()` takes the queued ones and counts them (no thread to race with), and keeps
    them open, silent, until the server is closed.
    """

    def __init__(self, port: int = 0):
        self.port = port

    def __enter__(self):
        self.socket = socket.create_server(("127.0.0.1", self.port), backlog=64)
        self.socket.setblocking(False)
        self.port = self.socket.getsockname()[1]
        self.held: list[socket.socket] = []
        return self

    def connections(self) -> int:
        while True:
            try:
                client, _address = self.socket.accept()
            except BlockingIOError:
                return len(self.held)
            self.held.append(client)

    def __exit__(self, *exc):
        for client in self.held:
            client.close()
        self.socket.close()


class Mailbox:
    """aiosmtpd's handler: what arrived, over which connection; answers chosen per subject."""

    def __init__(self, *, answers: dict[str, str] | None = None, on_message=None):
        self.answers = answers or {}
        self.on_message = on_message
        self.lock = threading.Lock()
        self.messages: list[email.message.Message] = []
        self.sessions: list[object] = []  # kept, so that each connection's identity stays unique

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content)
        if self.on_message is not None:
            self.on_message(message)
        for pattern, answer in self.answers.items():
            if pattern in message["Subject"]:
                return answer
        with self.lock:
            self.messages.append(message)
            if not any(seen is session for seen in self.sessions):
                self.sessions.append(session)
        return "250 OK"

    def message_ids(self) -> Counter:
        return Counter(message["Message-ID"] for message in self.messages)


class SmtpServer(Controller):
    """A real SMTP server (aiosmtpd) on a loopback port of its own; counts its connections."""

    def __init__(self, mailbox: Mailbox, *, port: int = 0):
        self.listener = socket.create_server(("127.0.0.1", port))
        super().__init__(mailbox, hostname="127.0.0.1", port=self.listener.getsockname()[1])
        self.mailbox = mailbox
        self.connections = 0

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self.listener)

    def factory(self):
        self.connections += 1  # one SMTP instance per connection
        return super().factory()

    def __enter__(self):
        self.start()
        self.connections = 0  # start() connects once to see the server answer
        return self

    def __exit__(self, *exc):
        self.stop()
