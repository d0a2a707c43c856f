import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citycheck.settings.dev")
django_application = get_wsgi_application()

# After Django's set-up:
from citycheck.core.public_pages import PublicPages  # noqa: E402
from citycheck.survey.front import PublicForm  # noqa: E402

# Anonymous public pages answered from the shared cache before Django (issue 17), and
# the survey's public form answered with Django's checks but not its whole chain (issue 11).
application = PublicForm(PublicPages(django_application))
