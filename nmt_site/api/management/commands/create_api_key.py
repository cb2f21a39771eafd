"""manage.py create_api_key NAME [--requests-per-minute N] [--char-limit N]: prints the new key."""

from django.core.management.base import BaseCommand

from nmt_site.api.models import ApiKey


class Command(BaseCommand):
    help = "Create an API key for the public (LibreTranslate-compatible) API and print it."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--requests-per-minute", type=int, default=None)
        parser.add_argument("--char-limit", type=int, default=None)

    def handle(self, *args, name, requests_per_minute, char_limit, **options):
        key = ApiKey.objects.create(name=name, requests_per_minute=requests_per_minute, char_limit=char_limit)
        self.stdout.write(key.key)
