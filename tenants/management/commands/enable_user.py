"""``manage.py enable_user EMAIL``: enable a disabled or locked login again and start its count of wrong
passwords afresh, as an administrator's ``POST /api/user/{id}/userCredentialsEnabled?userCredentialsEnabled=true``
does: the way back in when the locked user is the only system administrator (USER_MAX_FAILED_LOGIN_ATTEMPTS)."""

from django.core.management.base import BaseCommand, CommandError

from tenants import lockout
from tenants.models import CredentialsToken, User


class Command(BaseCommand):
    help = "Enable a disabled or locked user's login again and reset its count of failed logins."

    def add_arguments(self, parser):
        parser.add_argument("email", help="the user's e-mail address (its login name)")

    def handle(self, *args, email: str, **options):
        email = email.strip().lower()
        user = User.objects.filter(email=email).first() if email else None
        if user is None:
            raise CommandError(f"No user with the e-mail {email!r}")
        pending = not user.has_usable_password() and CredentialsToken.objects.filter(
            user=user, purpose=CredentialsToken.Purpose.ACTIVATE).exists()
        fields = lockout.forget_failures(user)
        if pending:  # enabling it would not let it in: it logs in once it sets a password through its link
            if fields:
                user.save(update_fields=fields)
            self.stdout.write(f"{email} has no password yet: it is waiting for activation through its activation "
                              "link (GET /api/user/{id}/activationLink); nothing to enable.")
            return
        if user.is_active:
            if fields:
                user.save(update_fields=fields)
            self.stdout.write(f"{email} is already enabled; its count of failed logins starts again.")
            return
        user.is_active = True
        user.save(update_fields=["is_active", *fields])
        self.stdout.write(self.style.SUCCESS(f"{email} enabled; its count of failed logins starts again."))
