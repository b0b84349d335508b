"""Transport for children: aiohttp routes and the socket.io namespace that speaks Rasa's protocol."""
