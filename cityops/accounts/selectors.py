"""Who is calling: the API token's or the session's person, with the memberships every staff request
asks for next."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from rest_framework.authtoken.models import Token

from cityops.accounts.models import Session
from cityops.core.db import Columns, stable_plans
from cityops.organization.models import Department, Membership
from cityops.organization.selectors import memberships_prime

_PLANS: dict[tuple[str, str], tuple] = {}


def _plan(connection, by: str):
    """One statement: the person (by API token, by id, or by the session that holds them), and the
    person's active memberships in active departments (a row per membership, or one row with NULLs
    when there is none). A session is read even when it holds no one (all the person's columns NULL)."""
    qn = connection.ops.quote_name
    user_model = get_user_model()

    def col(model, name):
        return qn(model._meta.get_field(name).column)

    head_model = {"token": Token, "session": Session}.get(by)
    t = Columns(head_model, "t", connection) if head_model else None
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
    elif by == "token":
        head = (
            f"SELECT {t.sql}, {u.sql}, {m.sql}, {d.sql} FROM {qn(Token._meta.db_table)} t "  # noqa: S608 (identifiers from the models)
            f"JOIN {people} ON u.{col(user_model, 'id')} = t.{col(Token, 'user')}"
        )
        where = f"t.{col(Token, 'key')} = %s"
    else:
        head = (
            f"SELECT {t.sql}, {u.sql}, {m.sql}, {d.sql} FROM {qn(Session._meta.db_table)} t "  # noqa: S608 (identifiers from the models)
            f"LEFT JOIN {people} ON u.{col(user_model, 'id')} = t.{col(Session, 'user')}"
        )
        where = f"t.{col(Session, 'session_key')} = %s AND t.{col(Session, 'expire_date')} > %s"
    sql = (
        f"{head} "
        f"LEFT JOIN ({mt} m JOIN {dt} d ON {in_department} AND d.{col(Department, 'is_active')} = %s) "
        f"ON {of_user} AND m.{col(Membership, 'is_active')} = %s "
        f"WHERE {where} ORDER BY m.{col(Membership, 'id')}"
    )
    return sql, t, u, m, d


def _rows(by: str, values: list, using: str):
    connection = connections[using]
    key = (connection.alias, by)
    if key not in _PLANS:
        _PLANS[key] = _plan(connection, by)
    sql, *columns = _PLANS[key]
    with connection.cursor() as cur, stable_plans():  # a key lookup: one plan for every key
        cur.execute(sql, [True, True, *values])
        return connection, cur.fetchall(), columns


def _build(rows, connection, using: str, columns):
    """The head row (token or session; None when looked up by id) and the person with memberships
    primed (None when a session holds no one)."""
    t, u, m, d = columns
    a = t.width if t else 0
    b, c = a + u.width, a + u.width + m.width
    head = t.build(rows[0][:a], connection, using) if t else None
    user = u.build(rows[0][a:b], connection, using)
    if user is None:
        return head, None
    memberships = []
    for row in rows:
        membership = m.build(row[b:c], connection, using)
        if membership is not None:
            membership.user = user
            membership.department = d.build(row[c:], connection, using)
            memberships.append(membership)
    memberships_prime(user, memberships)
    return head, user


def _person(by: str, value, using: str):
    connection, rows, columns = _rows(by, [value], using)
    if not rows:
        return None
    token, user = _build(rows, connection, using, columns)
    if token is not None:
        user.auth_token, token.user = token, user
    return user


def token_user(key: str, *, using: str = DEFAULT_DB_ALIAS):
    """The person holding API token ``key`` (their ``auth_token`` and memberships loaded), or None.

    Equal to DRF's token lookup followed by ``organization.selectors.memberships_of``, in one query
    instead of two (tested): every staff API call authenticates and then asks for roles."""
    return _person("token", key, using)


def session_person(session_key: str, *, now, using: str = DEFAULT_DB_ALIAS):
    """The current session with key ``session_key`` and the person it holds (memberships loaded; None
    when it holds no one), or None when there is no such current session.

    Equal to Django's session lookup followed by ``user_get`` (tested), in one query: every staff page
    reads its session and then its person."""
    at = connections[using].ops.adapt_datetimefield_value(now)
    connection, rows, columns = _rows("session", [session_key, at], using)
    if not rows:
        return None
    return _build(rows, connection, using, columns)


def user_get(user_id, *, using: str = DEFAULT_DB_ALIAS):
    """The person with primary key ``user_id`` (memberships loaded), or None: the session's user, in one
    query with what every staff page asks for next."""
    return _person("id", user_id, using)
