import datetime
import functools
import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditfile.core.services import rows as model_rows


class Department(models.Model):
    name = models.CharField(_("部门名称"), max_length=100)
    code = models.CharField(_("部门代码"), max_length=20, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self):
        return self.name

    def subtree_ids(self) -> set[int]:
        """This department and every department below it."""
        ids = {self.pk}
        frontier = [self.pk]
        while frontier:
            frontier = list(
                Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            ids.update(frontier)
        return ids


class User(AbstractUser):
    """A person who signs in. Roles are Django groups (see core/roles.py)."""

    department = models.ForeignKey(
        Department,
        verbose_name=_("所属部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]

    def __str__(self):
        return self.full_name or self.username

    @property
    def role_codes(self) -> set[str]:
        if not hasattr(self, "_role_codes"):
            self._role_codes = set(self.groups.values_list("name", flat=True))
        return self._role_codes

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes.intersection(codes))


class ApiToken(models.Model):
    """A per-user API key. Only a hash is stored; the key is shown once when created."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API令牌")
        verbose_name_plural = _("API令牌")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str) -> tuple["ApiToken", str]:
        key = "cf_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=key[:8], key_hash=cls.hash_key(key))
        return token, key

    # The time of last use is written at most this often: a write on every call would
    # make every API request a writing transaction (on SQLite they queue one at a time).
    LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)

    @classmethod
    def user_for_key(cls, key: str) -> User | None:
        """The active user of a live token, with their role codes, in one query (every
        API call asks this first)."""
        now = timezone.now()
        stale_before = connection.ops.adapt_datetimefield_value(now - cls.LAST_USED_RESOLUTION)
        with model_rows.cursor() as cursor:
            cursor.execute(
                _user_for_key_sql(connection.vendor), [stale_before, cls.hash_key(key or "")]
            )
            row = cursor.fetchone()
        if row is None:
            return None
        user = model_rows.instance(User, row)
        token_id, last_use_is_stale, role_codes = row[len(User._meta.concrete_fields) :]
        if not user.is_active:
            return None
        user._role_codes = set(filter(None, (role_codes or "").split(chr(31))))
        if last_use_is_stale:
            cls.objects.filter(pk=token_id).update(last_used_at=now)
        return user


@functools.cache
def _user_for_key_sql(vendor: str) -> str:
    """`ApiToken.user_for_key`'s query: the user's columns in field order, then the
    token's id, whether its last use is stale, and the role codes joined by chr(31)."""
    from django.contrib.auth.models import Group

    separator = "chr(31)" if vendor == "postgresql" else "char(31)"
    joined = "string_agg" if vendor == "postgresql" else "group_concat"
    member = User.groups.through._meta.db_table
    return (
        f"SELECT {model_rows.columns(User, 'u')}, t.id, CASE WHEN t.last_used_at IS NULL"
        " OR t.last_used_at < %s THEN 1 ELSE 0 END,"
        f" (SELECT {joined}(g.name, {separator}) FROM {Group._meta.db_table} g"
        f" JOIN {member} m ON m.group_id = g.id WHERE m.user_id = u.id)"
        f" FROM {ApiToken._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id"
        " WHERE t.key_hash = %s AND t.revoked_at IS NULL"
    )


class Company(models.Model):
    """A selling company of our group (集团): credit lines and letters are per company.

    Most installations have one; a group that sells from several companies keeps a
    limit per company and, optionally, a group-wide limit over their sum.
    """

    name = models.CharField(_("公司名称"), max_length=200, unique=True)
    short_name = models.CharField(_("简称"), max_length=60, blank=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    address = models.CharField(_("地址"), max_length=300, blank=True)
    postcode = models.CharField(_("邮政编码"), max_length=6, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    fax = models.CharField(_("传真"), max_length=30, blank=True)
    email = models.EmailField(_("电子邮件"), blank=True)
    website = models.CharField(_("网址"), max_length=200, blank=True)
    letter_signatory = models.CharField(
        _("函件落款"), max_length=100, blank=True, help_text=_("例如：信用管理部")
    )
    is_default = models.BooleanField(_("默认公司"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("销售公司")
        verbose_name_plural = _("销售公司")
        ordering = ["-is_default", "name"]

    def __str__(self):
        return self.short_name or self.name

    @classmethod
    def default(cls) -> "Company":
        """The company used when only one sells; created from settings on first use."""
        from django.conf import settings

        company = cls.objects.filter(is_default=True).first() or cls.objects.first()
        if company is None:
            company = cls.objects.create(
                name=str(settings.COMPANY_NAME or _("本公司")), is_default=True
            )
        return company
