# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends procps \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 physiotrack
WORKDIR /app

COPY pyproject.toml requirements/constraints.txt ./requirements/
RUN mv requirements/pyproject.toml . && mkdir -p config backend \
    && touch config/__init__.py backend/__init__.py \
    && pip install -c requirements/constraints.txt .
COPY . .
RUN pip install --no-deps -c requirements/constraints.txt . \
    && DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

USER physiotrack
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn.py"]
