"""The built dashboard (WEB_DIST) at `/`: its files, and index.html for client-side routes."""

from __future__ import annotations

from pathlib import Path

from litestar import Router, get, head
from litestar.params import FromPath
from litestar.response import File

from archive_api.errors import NotFoundError

RESERVED = ("api/", "api", "healthz", "readyz", "metrics")


def web_router(dist: Path) -> Router:
    """Routes serving `dist`: a file if it exists there, else index.html (the client router
    decides), except under /api where an unknown path stays a JSON 404."""
    root = dist.resolve()
    index = root / "index.html"

    def pick(path: str) -> Path:
        if path.startswith(RESERVED):
            raise NotFoundError(f"path: no endpoint at /{path}")
        candidate = (root / path).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return candidate
        return index

    def serve(path: str) -> File:
        target = pick(path.lstrip("/")) if path.strip("/") else index
        headers = {}
        if target != index and "/assets/" in f"/{path}":
            headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            headers["Cache-Control"] = "no-cache"
        # The file name gives the media type (text/html, text/javascript, text/css): without
        # it every file is application/octet-stream and a browser downloads the page.
        return File(
            target, filename=target.name, content_disposition_type="inline", headers=headers
        )

    # HEAD too: link checkers, uptime probes and caches ask it before (or instead of) GET.
    @get("/", include_in_schema=False, sync_to_thread=False)
    def web_index() -> File:
        return serve("/")

    @head("/", include_in_schema=False, sync_to_thread=False)
    def web_index_head() -> File:
        return serve("/")

    @get("/{path:path}", include_in_schema=False, sync_to_thread=False)
    def web_file(path: FromPath[str]) -> File:
        return serve(path)

    @head("/{path:path}", include_in_schema=False, sync_to_thread=False)
    def web_file_head(path: FromPath[str]) -> File:
        return serve(path)

    return Router(path="/", route_handlers=[web_index, web_index_head, web_file, web_file_head])
