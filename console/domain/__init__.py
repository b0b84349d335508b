"""What the console decides (accounts, hand-offs, statistics), free of aiohttp and socket.io."""
