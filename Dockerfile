FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 1000 followthrough

COPY pyproject.toml README.md ./
RUN pip install .
COPY . .
# Static files are collected at build time; the settings need a key to load, not this one at run time.
RUN SECRET_KEY=collectstatic-only DEBUG=false python manage.py collectstatic --no-input \
    && chown -R followthrough /app
USER followthrough

EXPOSE 8000
CMD ["gunicorn", "followthrough.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
