"""Understanding children's messages: intent classification (embedded or Rasa) and the crisis safety check."""
