"""The survey of pre-trained language models as a knowledge graph: load, query, search, trace.

Importing this package is cheap: it imports neither torch nor rdflib (tests/test_imports.py).
"""

from .backends import (  # noqa: F401
    Backend, EmbeddedBackend, EndpointBackend, QueryBusy, QueryError, QueryFailed, QueryRefused,
    QuerySyntaxError, QueryTimeout, ResultTooLarge, SandboxUnavailable, open_backend,
)
