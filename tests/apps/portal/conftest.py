from tests.apps.reports.conftest import (  # noqa: F401  (fixtures)
    draft_release,
    media_root,
    method,
    province,
    published_release,
)
