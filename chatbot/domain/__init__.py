"""Domain of the chat: conversations, their log and the bot's answers. No transport imports here."""
