# One image for the web server and the workers; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies first, so code changes do not reinstall them. For a CPU-only image pass
# --build-arg PIP_EXTRA_INDEX_URL=<a CPU wheel index for torch> to skip the large CUDA wheels.
ARG PIP_EXTRA_INDEX_URL=""
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY manage.py ./
COPY nmt_site ./nmt_site
COPY workers ./workers
COPY translator ./translator
COPY templates ./templates
COPY static ./static

RUN useradd --create-home --uid 1000 nmt && mkdir -p /app/var && chown nmt /app/var
USER nmt

EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "nmt_site.asgi:application"]
