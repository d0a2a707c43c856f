import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citycheck.settings.dev")
django_application = get_wsgi_application()

from citycheck.core.public_pages import PublicPages  # noqa: E402  (after Django's set-up)

# Anonymous public pages answered from the shared cache before Django (issue 17).
application = PublicPages(django_application)
