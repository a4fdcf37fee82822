"""The demo company: its department tree and one or more people in every role."""

from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from creditfile.core import roles

DEMO_PASSWORD = "demo-password-2026"

# code, name, parent code. Codes match creditfile/core/testing.py where they overlap.
DEPARTMENTS = [
    ("head", "总经理办公室", None),
    ("sales", "营销中心", "head"),
    ("sales_east", "华东销售部", "sales"),
    ("sales_south", "华南销售部", "sales"),
    ("sales_north", "华北销售部", "sales"),
    ("sales_west", "西南销售部", "sales"),
    ("credit", "信用管理部", "head"),
    ("finance", "财务部", "head"),
    ("office", "行政部（档案）", "head"),
    ("audit", "审计部", "head"),
]

# Sales department → (share of customers, provinces it covers with their relative weights).
SALES_TERRITORIES = {
    "sales_east": (
        36,
        {"31": 10, "32": 12, "33": 11, "34": 4, "35": 5, "36": 3, "37": 9},
    ),
    "sales_south": (26, {"44": 14, "45": 3, "46": 1, "43": 4, "35": 0}),
    "sales_north": (
        22,
        {"11": 7, "12": 3, "13": 4, "14": 2, "15": 2, "21": 3, "22": 1, "23": 1, "41": 5},
    ),
    "sales_west": (
        16,
        {
            "50": 4,
            "51": 6,
            "52": 2,
            "53": 2,
            "54": 0.3,
            "61": 3,
            "62": 1,
            "63": 0.3,
            "64": 0.4,
            "65": 1,
            "42": 5,
        },
    ),
}

# username, full name, department code, role.
PEOPLE = [
    ("gm", "周建国", "head", roles.GENERAL_MANAGER),
    ("vp", "孙志刚", "head", roles.VP),
    ("director", "钱丽华", "sales", roles.MARKETING_DIRECTOR),
    ("east_manager", "陈海峰", "sales_east", roles.DEPT_MANAGER),
    ("east1", "王伟", "sales_east", roles.SALES_REP),
    ("east2", "李娜", "sales_east", roles.SALES_REP),
    ("east3", "张磊", "sales_east", roles.SALES_REP),
    ("east4", "徐静", "sales_east", roles.SALES_REP),
    ("east5", "沈俊", "sales_east", roles.SALES_REP),
    ("south_manager", "黄志明", "sales_south", roles.DEPT_MANAGER),
    ("south1", "梁晓东", "sales_south", roles.SALES_REP),
    ("south2", "林佳怡", "sales_south", roles.SALES_REP),
    ("south3", "何文杰", "sales_south", roles.SALES_REP),
    ("south4", "罗婷", "sales_south", roles.SALES_REP),
    ("north_manager", "赵立新", "sales_north", roles.DEPT_MANAGER),
    ("north1", "刘洋", "sales_north", roles.SALES_REP),
    ("north2", "杨帆", "sales_north", roles.SALES_REP),
    ("north3", "高明", "sales_north", roles.SALES_REP),
    ("west_manager", "吴永春", "sales_west", roles.DEPT_MANAGER),
    ("west1", "邓超", "sales_west", roles.SALES_REP),
    ("west2", "唐雪梅", "sales_west", roles.SALES_REP),
    ("west3", "曾浩", "sales_west", roles.SALES_REP),
    ("credit_manager", "郑秀英", "credit", roles.CREDIT_MANAGER),
    ("credit1", "冯敏", "credit", roles.CREDIT_STAFF),
    ("credit2", "蒋涛", "credit", roles.CREDIT_STAFF),
    ("finance1", "韩丽娟", "finance", roles.FINANCE),
    ("finance2", "许斌", "finance", roles.FINANCE),
    ("archivist", "曹玉兰", "office", roles.ARCHIVIST),
    ("auditor", "彭振华", "audit", roles.AUDITOR),
    ("sysadmin", "袁凯", "office", roles.ADMINISTRATOR),
]


@dataclass
class DemoOrg:
    departments: dict = field(default_factory=dict)  # code → Department
    users: dict = field(default_factory=dict)  # username → User

    def reps(self, department_code: str) -> list:
        return [
            self.users[username]
            for username, _name, dept, role in PEOPLE
            if dept == department_code and role == roles.SALES_REP
        ]

    def by_role(self, role: str) -> list:
        return [self.users[u] for u, _n, _d, r in PEOPLE if r == role]


def build_demo_org(password: str = DEMO_PASSWORD) -> DemoOrg:
    """Create (or reuse, for --append) the demo departments and people."""
    from creditfile.core.models import Department, User

    roles.sync_roles()
    org = DemoOrg()
    for code, name, parent in DEPARTMENTS:
        department, _created = Department.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "parent": org.departments.get(parent),
                "sort_order": len(org.departments) * 10,
            },
        )
        org.departments[code] = department
    groups = {g.name: g for g in Group.objects.all()}
    existing = {u.username: u for u in User.objects.filter(username__in=[p[0] for p in PEOPLE])}
    hashed = make_password(password)  # hashed once: Argon2 is deliberately slow
    for username, full_name, dept, role in PEOPLE:
        user = existing.get(username)
        if user is None:
            user = User.objects.create(
                username=username,
                full_name=full_name,
                password=hashed,
                department=org.departments[dept],
                email=f"{username}@demo.creditfile.cn",
            )
            user.groups.add(groups[role])
        org.users[username] = user
    return org
