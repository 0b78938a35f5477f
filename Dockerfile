# syntax=docker/dockerfile:1
# One image for every project service (web, worker, beat, bridge, flower, migrate).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt constraints.txt /tmp/
# Pinned direct dependencies, and every transitive one held to constraints.txt.
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt -c /tmp/constraints.txt

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/var/lib/stockticker
RUN useradd --system --uid 10001 --no-create-home --home-dir /app stockticker \
 && install -d -o stockticker -g stockticker /var/lib/stockticker
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . /app
USER stockticker
EXPOSE 8000 5555
CMD ["gunicorn", "--config", "config/gunicorn.py", "wsgi:app"]
