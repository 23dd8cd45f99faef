"""People and accounts pages: password reset and change, invitations, a cooperative's people."""
