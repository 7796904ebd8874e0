"""Who is calling: the API token's person, with the memberships every staff request asks for next."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from rest_framework.authtoken.models import Token

from cityops.core.db import Columns, stable_plans
from cityops.organization.models import Department, Membership
from cityops.organization.selectors import memberships_prime

_PLANS: dict[tuple[str, str], tuple] = {}


def _plan(connection, by: str):
    """One statement: the person (by API token or by id), and the person's active memberships in active
    departments (a row per membership, or one row with NULLs when there is none)."""
    qn = connection.ops.quote_name
    user_model = get_user_model()

    def col(model, name):
        return qn(model._meta.get_field(name).column)

    t = Columns(Token, "t", connection) if by == "token" else None
    u = Columns(user_model, "u", connection)
    m = Columns(Membership, "m", connection)
    d = Columns(Department, "d", connection)
    mt, dt = qn(Membership._meta.db_table), qn(Department._meta.db_table)
    in_department = f"d.{col(Department, 'id')} = m.{col(Membership, 'department')}"
    of_user = f"m.{col(Membership, 'user')} = u.{col(user_model, 'id')}"
    people = f"{qn(user_model._meta.db_table)} u"
    if t is None:
        head = f"SELECT {u.sql}, {m.sql}, {d.sql} FROM {people}"  # noqa: S608 (identifiers from the models)
        where = f"u.{col(user_model, 'id')} = %s"
    else:
        head = (
            f"SELECT {t.sql}, {u.sql}, {m.sql}, {d.sql} FROM {qn(Token._meta.db_table)} t "  # noqa: S608 (identifiers from the models)
            f"JOIN {people} ON u.{col(user_model, 'id')} = t.{col(Token, 'user')}"
        )
        where = f"t.{col(Token, 'key')} = %s"
    sql = (
        f"{head} "
        f"LEFT JOIN ({mt} m JOIN {dt} d ON {in_department} AND d.{col(Department, 'is_active')} = %s) "
        f"ON {of_user} AND m.{col(Membership, 'is_active')} = %s "
        f"WHERE {where} ORDER BY m.{col(Membership, 'id')}"
    )
    return sql, t, u, m, d


def _person(by: str, value, using: str):
    connection = connections[using]
    key = (connection.alias, by)
    if key not in _PLANS:
        _PLANS[key] = _plan(connection, by)
    sql, t, u, m, d = _PLANS[key]
    with connection.cursor() as cur, stable_plans():  # a key lookup: one plan for every key
        cur.execute(sql, [True, True, value])
        rows = cur.fetchall()
    if not rows:
        return None
    a = t.width if t else 0
    b, c = a + u.width, a + u.width + m.width
    user = u.build(rows[0][a:b], connection, using)
    if t is not None:
        user.auth_token = t.build(rows[0][:a], connection, using)
        user.auth_token.user = user
    memberships = []
    for row in rows:
        membership = m.build(row[b:c], connection, using)
        if membership is not None:
            membership.user = user
            membership.department = d.build(row[c:], connection, using)
            memberships.append(membership)
    memberships_prime(user, memberships)
    return user


def token_user(key: str, *, using: str = DEFAULT_DB_ALIAS):
    """The person holding API token ``key`` (their ``auth_token`` and memberships loaded), or None.

    Equal to DRF's token lookup followed by ``organization.selectors.memberships_of``, in one query
    instead of two (tested): every staff API call authenticates and then asks for roles."""
    return _person("token", key, using)


def user_get(user_id, *, using: str = DEFAULT_DB_ALIAS):
    """The person with primary key ``user_id`` (memberships loaded), or None: the session's user, in one
    query with what every staff page asks for next."""
    return _person("id", user_id, using)
