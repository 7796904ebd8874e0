"""Staff API of the case loop (``/api/v1/``), for the mobile apps of inspectors and handlers.

Thin adapters: parse the request, authorize through the selectors, call one service, render.
Domain errors raised by the services come out through ``cityops.core.api.exception_handler`` as
``{"detail": message, "code": code}`` with the error's status.
"""

from __future__ import annotations

from functools import cached_property, partial

from django.contrib.auth import authenticate
from django.core.paginator import EmptyPage, Page, Paginator
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import parsers, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ParseError, PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from cityops.cases import selectors, services
from cityops.cases.choices import Action, Kind, Source, State, Urgency
from cityops.cases.forms import DAY_BOUNDS
from cityops.cases.models import Attachment, Case
from cityops.cases.workflow import TABLE
from cityops.core.api import FieldsOnce
from cityops.core.db import prefetched
from cityops.core.errors import DomainError
from cityops.core.images import photo_response
from cityops.core.labels import labels_of
from cityops.organization.selectors import roles_of, sees_whole_city


class JSONParser(parsers.JSONParser):
    """DRF's, with a body nested too deep for Python's decoder a parse error too: ``json`` raises
    RecursionError there, not the ValueError DRF answers as 400, and it ended as a server error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_("The JSON body is nested too deeply.")) from exc


PARSERS = [MultiPartParser, FormParser, JSONParser]
ACTION_NAMES = [a.value for a in TABLE]


# ------------------------------------------------------------------------------------------------
# serializers: input


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    username = serializers.CharField()
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())


class PhotosField(serializers.ListField):
    """The repeatable multipart field ``photos``; each file is checked and cleaned by the service."""

    child = serializers.FileField(allow_empty_file=False)

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist"):
            return dictionary.getlist(self.field_name) or serializers.empty
        return super().get_value(dictionary)


class ReportSerializer(FieldsOnce):
    type = serializers.CharField(max_length=5, help_text=gettext_lazy("Catalogue code, e.g. 07001."))
    kind = serializers.ChoiceField(choices=Kind.choices, default=Kind.MATTER)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    description = serializers.CharField(max_length=2000)
    lat = serializers.FloatField(min_value=-90, max_value=90, help_text=gettext_lazy("WGS84 latitude."))
    lon = serializers.FloatField(min_value=-180, max_value=180, help_text=gettext_lazy("WGS84 longitude."))
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    # a facility inspection opens its cases itself (facilities.services), never through this API
    source = serializers.ChoiceField(
        choices=[c for c in Source.choices if c[0] != Source.INSPECTION], default=Source.INSPECTOR
    )
    reporter_name = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    reporter_phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    photos = PhotosField(required=False, default=list, max_length=services.MAX_PHOTOS)


class ActionSerializer(FieldsOnce):
    action = serializers.ChoiceField(choices=ACTION_NAMES)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    department = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("Department code (dispatch); empty: the dispatch rule's proposal."),
    )
    original = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("Number of the original case (merge)."),
    )
    condition = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy(
            "Filing condition reference, e.g. S009#1 (file); empty: the first that applies."
        ),
    )
    until = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("End of the extension, ISO 8601 (request_extension, approve_extension)."),
    )
    photos = PhotosField(required=False, default=list, max_length=services.MAX_PHOTOS)

    def validate_until(self, value):
        if services.extension_too_far(value, timezone.now()):
            raise serializers.ValidationError(_("An extension may end at most a year from now."))
        return value


class CaseFilterSerializer(serializers.Serializer):
    # An empty filter (``?q=``, as a form with an empty field sends it) is no filter, not a 400.
    queue = serializers.ChoiceField(choices=list(selectors.QUEUES), default="all")
    type = serializers.CharField(max_length=5, required=False, default="", allow_blank=True)
    area = serializers.CharField(max_length=16, required=False, default="", allow_blank=True)
    department = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    source = serializers.ChoiceField(choices=Source.choices, required=False, default="", allow_blank=True)
    state = serializers.ChoiceField(choices=State.choices, required=False, default="", allow_blank=True)
    q = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    sort = serializers.ChoiceField(choices=list(selectors.SORTS), default="-reported")

    def get_fields(self):
        fields = super().get_fields()
        # "from" and "to" are Python keywords: declared here under their query-string names.
        for name in ("from", "to"):
            fields[name] = serializers.DateField(
                required=False, allow_null=True, default=None, validators=DAY_BOUNDS
            )
        return fields

    def filters(self) -> selectors.CaseFilters:
        d = self.validated_data
        return selectors.CaseFilters(
            queue=d["queue"],
            type_code=d["type"],
            area=d["area"],
            department=d["department"],
            source=d["source"],
            state=d["state"],
            date_from=d["from"],
            date_to=d["to"],
            q=d["q"],
            sort=d["sort"],
        )


# ------------------------------------------------------------------------------------------------
# serializers: output


class DepartmentRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


_DATETIME = serializers.DateTimeField()  # unbound: only its formatting (ISO 8601, local time) is used


def photo_url(request, pk: int) -> str:
    """Where an API client reads a photo: ``CasePhotoView``, which checks the caller may see its case
    (the storage is not served: a stored photo's own URL is guessable from the case number)."""
    return request.build_absolute_uri(reverse("api:photo", args=[pk]))


def case_data(case: Case, context: dict, *, detail: bool = False) -> dict:
    """The staff representation of a case, built directly from its attributes, in field order.

    The serializers below describe it for the OpenAPI schema; walking their fields costs several ms
    per case on the intake and list paths. A test holds this function equal to the serializers'
    field-by-field output for cases in every state.
    """

    def dt(value):
        return _DATETIME.to_representation(value) if value else None

    allowed = [a.value for a in services.allowed_actions_for(context["request"].user, case)]
    dept = case.department
    data = {
        "number": case.number,
        "source": case.source,
        "kind": case.kind,
        "type": case.type_code,
        "type_name": case.type_name,
        "condition_ref": case.condition_ref,
        "urgency": case.urgency,
        "description": case.description,
        "lat": case.lat,
        "lon": case.lon,
        "address": case.address,
        "county_code": case.county_code,
        "township_code": case.township_code,
        "community_code": case.community_code,
        "grid_code": case.grid_code,
        "state": case.state,
        "state_label": labels_of(State).get(case.state, case.state),
        "department": {"code": dept.code, "name": dept.name} if dept is not None else None,
        "merged_into": case.merged_into.number if case.merged_into_id else None,
        "stage": case.stage,
        "stage_started_at": dt(case.stage_started_at),
        "due_at": dt(case.due_at),
        "handle_due_at": dt(case.handle_due_at),
        "paused": case.paused_at is not None,
        "extension_pending": case.extension_pending,
        "extension_until": dt(case.extension_until),
        "rework_count": case.rework_count,
        "return_count": case.return_count,
        "urge_count": case.urge_count,
        "followers": case.followers,
        "reported_at": dt(case.reported_at),
        "filed_at": dt(case.filed_at),
        "dispatched_at": dt(case.dispatched_at),
        "handled_at": dt(case.handled_at),
        "closed_at": dt(case.closed_at),
        "updated_at": dt(case.updated_at),
        "allowed_actions": allowed,
    }
    if detail:
        request = context["request"]
        data["photos"] = [
            {
                "stage": p.stage,
                "url": photo_url(request, p.pk),
                "width": p.width,
                "height": p.height,
                "created_at": dt(p.created_at),
            }
            for p in case.attachments.all()
        ]
        proposed = services.dispatch_proposal(case) if Action.DISPATCH.value in allowed else None
        data["proposed_department"] = {"code": proposed.code, "name": proposed.name} if proposed else None
    # The reporter's contact is private: only the command centre sees it.
    if context.get("whole_city"):
        data["reporter_name"] = case.reporter_name
        data["reporter_phone"] = case.reporter_phone
    return data


class CaseSerializer(serializers.ModelSerializer):
    """A case as staff see it. ``allowed_actions`` are the actions the caller may take now.

    The output is built by ``case_data``; the fields declare it for the schema (and, walked one by
    one, are the reference the test compares ``case_data`` with).
    """

    detail = False

    type = serializers.CharField(source="type_code")
    state_label = serializers.CharField(source="get_state_display")
    department = DepartmentRefSerializer(allow_null=True)
    merged_into = serializers.SlugRelatedField(slug_field="number", read_only=True)
    paused = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "number",
            "source",
            "kind",
            "type",
            "type_name",
            "condition_ref",
            "urgency",
            "description",
            "lat",
            "lon",
            "address",
            "county_code",
            "township_code",
            "community_code",
            "grid_code",
            "state",
            "state_label",
            "department",
            "merged_into",
            "stage",
            "stage_started_at",
            "due_at",
            "handle_due_at",
            "paused",
            "extension_pending",
            "extension_until",
            "rework_count",
            "return_count",
            "urge_count",
            "followers",
            "reported_at",
            "filed_at",
            "dispatched_at",
            "handled_at",
            "closed_at",
            "updated_at",
            "allowed_actions",
        ]
        read_only_fields = fields

    def get_paused(self, case) -> bool:
        return case.paused_at is not None

    def get_allowed_actions(self, case) -> list[str]:
        return [a.value for a in services.allowed_actions_for(self.context["request"].user, case)]

    def to_representation(self, case):
        return case_data(case, self.context, detail=self.detail)

    def field_by_field(self, case) -> dict:
        """DRF's generic output of the declared fields (the reference for ``case_data``)."""
        data = super().to_representation(case)
        if self.context.get("whole_city"):
            data["reporter_name"] = case.reporter_name
            data["reporter_phone"] = case.reporter_phone
        return data


class PhotoSerializer(serializers.Serializer):
    stage = serializers.CharField()
    url = serializers.SerializerMethodField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def get_url(self, photo) -> str:
        return photo_url(self.context["request"], photo.pk)


class CaseDetailSerializer(CaseSerializer):
    detail = True

    photos = PhotoSerializer(source="attachments.all", many=True)
    proposed_department = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "photos", "proposed_department"]
        read_only_fields = fields

    @extend_schema_field(DepartmentRefSerializer(allow_null=True))
    def get_proposed_department(self, case) -> dict | None:
        if Action.DISPATCH.value not in self.get_allowed_actions(case):
            return None
        dept = services.dispatch_proposal(case)
        return {"code": dept.code, "name": dept.name} if dept else None


class EventSerializer(serializers.Serializer):
    action = serializers.CharField()
    action_label = serializers.CharField(source="get_action_display")
    actor_name = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    department = serializers.CharField(source="department.code", allow_null=True, read_only=True)
    note = serializers.CharField()
    data = serializers.JSONField()
    is_public = serializers.BooleanField()
    at = serializers.DateTimeField()
    photos = PhotoSerializer(source="photos.all", many=True)


class DuplicateSerializer(serializers.Serializer):
    number = serializers.CharField(source="case.number")
    type = serializers.CharField(source="case.type_code")
    type_name = serializers.CharField(source="case.type_name")
    state = serializers.CharField(source="case.state")
    description = serializers.CharField(source="case.description")
    address = serializers.CharField(source="case.address")
    lat = serializers.FloatField(source="case.lat")
    lon = serializers.FloatField(source="case.lon")
    reported_at = serializers.DateTimeField(source="case.reported_at")
    distance_m = serializers.FloatField()


ERROR = inline_serializer("Error", {"detail": serializers.CharField(), "code": serializers.CharField()})


# ------------------------------------------------------------------------------------------------
# views


# A list counts its cases up to this many. Counting a word in a fifth of the cases (小广告) took 0.3 s
# at 1M cases and 0.9 s at 3M on SQLite; a department's whole history, which grows with every year,
# 70-115 ms at 3M on both databases: totals nobody pages through, for which the evaluation API counts.
COUNT_CAP = 10_000


class _ReadPage(Page):
    """A page of a list counted only up to the cap: whether a page follows was read, not counted."""

    def __init__(self, rows, number, paginator, *, more: bool):
        super().__init__(rows, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more


class _CappedPaginator(Paginator):
    """Django's paginator, counting at most ``cap`` rows (``capped`` says whether there were more).
    The pages of a capped list go on past the cap: each reads one row beyond itself to tell whether
    another follows. A page beyond the cap's pages is checked against a full count (404 past the
    last, as in a list counted in full): those pages count, the first ones do not."""

    def __init__(self, *args, cap: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.cap, self.capped = cap, False

    @cached_property
    def count(self) -> int:
        found = self.object_list.count_at_most(self.cap)  # selectors.PagedList
        self.capped = found > self.cap
        return min(found, self.cap)

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except EmptyPage:
            # beyond the counted rows: the list is counted in full, a few times faster than reading
            # to the page's place only to find it empty (a handler's page 30,000 at 1M cases on SQLite:
            # 28 against 530 ms); a page found there is read as every page of the list
            if self.capped and int(number) > 1 and (int(number) - 1) * self.per_page < self.full_count:
                return int(number)
            raise

    @cached_property
    def full_count(self) -> int:
        return self.object_list.count()

    def page(self, number):
        number = self.validate_number(number)
        if not self.capped:
            return super().page(number)
        start = (number - 1) * self.per_page
        rows = list(self.object_list[start : start + self.per_page + 1])
        if not rows:
            raise EmptyPage(self.error_messages["no_results"])
        return _ReadPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class CasePagination(PageNumberPagination):
    """Pages of 20 (at most 100); ``count`` is exact up to ``COUNT_CAP`` and ``count_capped`` says
    when there are more."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        self.django_paginator_class = partial(_CappedPaginator, cap=COUNT_CAP)
        return super().paginate_queryset(queryset, request, view)

    def get_page_number(self, request, paginator):
        number = super().get_page_number(request, paginator)
        if paginator.capped and request.query_params.get(self.page_query_param) in self.last_page_strings:
            return max(1, -(-paginator.full_count // paginator.per_page))  # the last, not the cap's
        return number

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "count": paginator.count,
                "count_capped": paginator.capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )


# The paged answer of the case list, as ``CasePagination`` writes it (for the OpenAPI schema).
CASE_PAGE = inline_serializer(
    "CasePage",
    {
        "count": serializers.IntegerField(),
        "count_capped": serializers.BooleanField(
            help_text=f"True when the list holds more than {COUNT_CAP} cases: count is then that many, "
            "and the pages go on (next) to the last case."
        ),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": CaseSerializer(many=True),
    },
)


def _context(request) -> dict:
    return {"request": request, "whole_city": sees_whole_city(request.user)}


def _case_or_404(request, number: str) -> Case:
    case = selectors.case_get_for(request.user, number)
    if case is None:
        raise Http404
    return case


class TokenView(APIView):
    """Exchange a username and password for the token sent as ``Authorization: Token <token>``."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = PARSERS

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, 400: OpenApiResponse(description="Wrong username or password.")},
        auth=[],
        tags=["auth"],
    )
    def post(self, request):
        s = TokenRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        user = authenticate(
            request._request, username=s.validated_data["username"], password=s.validated_data["password"]
        )
        if user is None or not user.is_active:
            raise DomainError(_("The username or password is wrong."), code="login")
        token, _created = Token.objects.get_or_create(user=user)
        return Response(
            {
                "token": token.key,
                "username": user.get_username(),
                "name": getattr(user, "display_name", "") or "",
                "roles": sorted(r.value for r in roles_of(user)),
            }
        )


class CaseListView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        parameters=[
            CaseFilterSerializer,
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="At most 100."),
        ],
        responses={200: CASE_PAGE, 400: ERROR},
        tags=["cases"],
        operation_id="cases_list",  # a page object, not a list: the generator would call it a retrieve
    )
    def get(self, request):
        """Cases the caller may see, filtered and paged."""
        fs = CaseFilterSerializer(data=request.query_params)
        fs.is_valid(raise_exception=True)
        qs = selectors.case_queue_list(
            request.user, fs.filters(), now=timezone.now(), related=("department", "merged_into")
        )
        paginator = CasePagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = CaseSerializer(page, many=True, context=_context(request)).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        request={"multipart/form-data": ReportSerializer, "application/json": ReportSerializer},
        responses={201: CaseDetailSerializer, 400: ERROR, 403: ERROR},
        tags=["cases"],
    )
    def post(self, request):
        """Report a new case (multipart with repeatable ``photos``, or JSON without photos)."""
        if not roles_of(request.user):
            raise PermissionDenied(_("Only staff with a role may report cases."))
        s = ReportSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        case = services.case_report(
            data=services.ReportInput(
                source=d["source"],
                type_code=d["type"],
                description=d["description"],
                lat=d["lat"],
                lon=d["lon"],
                kind=d["kind"],
                urgency=d["urgency"],
                address=d["address"],
                reporter_name=d["reporter_name"],
                reporter_phone=d["reporter_phone"],
                once_key=services.once_key(f"user:{request.user.pk}", request.headers.get("Idempotency-Key")),
            ),
            photos=d["photos"],
            actor=request.user,
            now=timezone.now(),
        )
        # The new case is answered as built: re-reading it would cost a query, and a reporter without a
        # whole-city role (a handler) could not read it back through the queue rule anyway. Without
        # photos its photo list is known to be empty: filled as prefetching fills it, no query.
        if not d["photos"]:
            prefetched(case, "attachments", [])
        return Response(
            CaseDetailSerializer(case, context=_context(request)).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": request.build_absolute_uri(f"/api/v1/cases/{case.number}")},
        )


class CaseDetailView(APIView):
    @extend_schema(responses={200: CaseDetailSerializer, 404: ERROR}, tags=["cases"])
    def get(self, request, number: str):
        """One case with its photos and the actions the caller may take now."""
        case = _case_or_404(request, number)
        return Response(CaseDetailSerializer(case, context=_context(request)).data)


class CaseActionView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        request={"multipart/form-data": ActionSerializer, "application/json": ActionSerializer},
        responses={200: CaseDetailSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        tags=["cases"],
    )
    def post(self, request, number: str):
        """Take one action of the workflow on the case. Not allowed: 403 (role) or 409 (state)."""
        _case_or_404(request, number)
        s = ActionSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        services.case_act(
            number=number,
            data=services.ActionInput(
                action=d["action"],
                note=d["note"],
                reason=d["reason"],
                department=d["department"],
                original=d["original"],
                until=d["until"],
                condition=d["condition"],
            ),
            actor=request.user,
            photos=d["photos"],
            now=timezone.now(),
        )
        # After a return the handler may no longer see the case: answer with what they may see.
        case = selectors.case_get_for(request.user, number)
        if case is None:
            return Response({"number": number, "allowed_actions": []})
        return Response(CaseDetailSerializer(case, context=_context(request)).data)


class CaseEventsView(APIView):
    @extend_schema(responses={200: EventSerializer(many=True), 404: ERROR}, tags=["cases"])
    def get(self, request, number: str):
        """The case's timeline, oldest first."""
        case = _case_or_404(request, number)
        events = selectors.case_events_for(request.user, case)
        return Response(EventSerializer(events, many=True, context=_context(request)).data)


class CasePhotoView(APIView):
    @extend_schema(
        responses={(200, "image/*"): OpenApiTypes.BINARY, 404: ERROR},
        tags=["cases"],
    )
    def get(self, request, pk: int):
        """A photo of a case the caller may see (the ``url`` of a case's or an event's photos)."""
        photo = Attachment.objects.filter(pk=pk).select_related("case").only("file", "case__number").first()
        if photo is None or selectors.case_get_for(request.user, photo.case.number) is None:
            raise Http404
        return photo_response(photo.file)


class CaseDuplicatesView(APIView):
    @extend_schema(responses={200: DuplicateSerializer(many=True), 404: ERROR}, tags=["cases"])
    def get(self, request, number: str):
        """Open cases of the same type nearby that this case may duplicate, nearest first."""
        case = _case_or_404(request, number)
        found = services.duplicate_candidates(
            kind=case.kind,
            type_code=case.type_code,
            lat=case.lat,
            lon=case.lon,
            now=timezone.now(),
            exclude=case.pk,
        )
        visible = set(
            selectors.case_list_for(request.user)
            .filter(pk__in=[c.pk for c, _d in found])
            .values_list("pk", flat=True)
        )
        rows = [{"case": c, "distance_m": round(d, 1)} for c, d in found if c.pk in visible]
        return Response(DuplicateSerializer(rows, many=True).data)
