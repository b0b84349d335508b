"""The children's guidelines (content/guidelines.md) as checks over every answer and its translations."""
