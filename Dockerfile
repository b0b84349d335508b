# One image for both processes (gateway and console); the command picks which.
FROM node:20-bookworm-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN useradd --create-home --uid 10001 stodchat
WORKDIR /app
COPY pyproject.toml README.md ./
COPY chatbot ./chatbot
COPY console ./console
# Editable, so the code finds content/, locales/ and node_modules/ beside it in /app (PROJECT_ROOT).
RUN pip install --no-cache-dir -e .
COPY content ./content
COPY locales ./locales
COPY --from=frontend /app/node_modules ./node_modules
USER stodchat
EXPOSE 8000 8001
CMD ["python", "-m", "chatbot", "serve", "--host", "0.0.0.0", "--port", "8000"]
