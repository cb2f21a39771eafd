"""Delete uploaded and translated files (and their jobs) older than NMT_DOC_TTL_HOURS. Run it from cron, or
rely on the check every upload and every worker start does."""

from django.core.management.base import BaseCommand

from nmt_site.documents.services import expire_documents


class Command(BaseCommand):
    help = "Delete expired document jobs and their stored files."

    def handle(self, *args, **options):
        count = expire_documents()
        self.stdout.write(f"expired {count} document job(s)")
