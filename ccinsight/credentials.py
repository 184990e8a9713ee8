"""Secrets: environment references in database URLs, and redaction of anything shown.

Credentials never live in params files: a URL may reference environment variables
(``${CCINSIGHT_DB_PASSWORD}``), read only when connecting; a URL with a literal password
is refused; :func:`redact` hides passwords and secret-like values from every output.
"""
from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
SECRET_KEY = re.compile(r"(pass|pwd|secret|token|credential|api_?key|auth)", re.I)
#: A query parameter with a secret-like name, and its value (``?sslpassword=...``).
_SECRET_QUERY = re.compile(r"([?&;][^=&;#\s]*(?:pass|pwd|secret|token|credential|api_?key|auth)[^=&;#\s]*=)[^&;#\s]*",
                           re.I)


def redact_url(text: str) -> str:
    """Hide passwords of any URL in ``text``: in the user part (``user:secret@host`` ->
    ``user:***@host``) and in query parameters with secret-like names (``?password=***``)."""
    text = re.sub(r"(://[^:/@\s]+):[^@\s]+@", r"\1:***@", str(text))
    return _SECRET_QUERY.sub(r"\1***", text)


def redact(value: Any) -> Any:
    """Hide secrets in a value of any shape: values under secret-like keys, passwords in URLs."""
    if isinstance(value, dict):
        return {k: "***" if SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_url(value)
    return value


def literal_password(url: str) -> bool:
    """Does ``url`` hold a secret written out (in its user part, or in a query parameter with
    a secret-like name), not an ``${ENV_VAR}`` reference?"""
    m = re.search(r"://[^:/@\s]+:([^@\s]*)@", url)
    if m and m.group(1) != "" and not ENV_REF.fullmatch(m.group(1)):
        return True
    query = urlsplit(url).query
    return any(SECRET_KEY.search(key) and value and not ENV_REF.fullmatch(value)
               for key, value in parse_qsl(query, keep_blank_values=True))


def env_names(url: str) -> list[str]:
    """The environment variables ``url`` references."""
    return ENV_REF.findall(url)


def expand_env(url: str, where: str) -> str:
    """Fill ``${VAR}`` references from the environment; a missing variable is an error."""
    from ccinsight.errors import ParameterError

    missing = [m for m in env_names(url) if m not in os.environ]
    if missing:
        raise ParameterError(f"{where}: environment variable(s) {', '.join(missing)} referenced by the URL "
                             "are not set; export them before running.")
    # percent-encoded, so '@', '/' or ':' in a password cannot change the host or the path
    return ENV_REF.sub(lambda m: quote(os.environ[m.group(1)], safe=""), url)
