# syntax=docker/dockerfile:1
# The dashboard: web/ built with Node, served by nginx with /api and /api/live proxied to the
# api and the live gateway (deploy/docker/nginx.conf, docs/adr/0011-...). Context: the repository
# root (see .dockerignore).
#
#   docker build -f deploy/docker/web.Dockerfile -t archive-web .

# ------------------------------------------------------------------ build: npm ci, vite build
FROM node:20-bookworm-slim AS build
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# ------------------------------------------------------------------ runtime: unprivileged nginx
FROM nginxinc/nginx-unprivileged:1.28-alpine AS web
# Where the api and the gateway answer (compose service names; Kubernetes Service names), and
# the resolver nginx asks for them, taken from /etc/resolv.conf by the image's entrypoint.
ENV API_UPSTREAM=api:8000 \
    GATEWAY_UPSTREAM=live-gateway:8001 \
    NGINX_ENTRYPOINT_LOCAL_RESOLVERS=1
COPY deploy/docker/nginx.conf /etc/nginx/templates/default.conf.template
COPY --from=build /web/dist/ /usr/share/nginx/html/
EXPOSE 8080
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]
