"""Child-facing side of the support chat: socket.io gateway, bot, and the domain shared with the console."""
