# The gateway serving its built-in example (every front on ports 3000-3003) inside a container:
#   docker build -t lambda-gateway . && docker run --rm -p 3000-3003:3000-3003 -p 3010:3010 lambda-gateway
# Mount your own config and functions with:
#   docker run --rm -v "$PWD:/work" -p 3000-3003:3000-3003 -p 3010:3010 lambda-gateway \
#     python -m gateway serve --host 0.0.0.0 --config /work/gateway.toml
FROM python:3.11-slim
WORKDIR /srv/lambda-gateway
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY edge ./edge
RUN pip install --no-cache-dir .
EXPOSE 3000 3001 3002 3003 3010
# Inside a container 127.0.0.1 is unreachable from the host, so listen on every interface.
CMD ["python", "-m", "gateway", "serve", "--host", "0.0.0.0"]
