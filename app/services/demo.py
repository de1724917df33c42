"""A demo team with clearly fictional people, for trying Fieldline out."""
import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from app.models import PartnerService, Person, Plan, User
from app.models.types import utcnow
from app.services import appointments
from app.services import contacts as contacts_service
from app.services import people
from app.services.auth import hash_password
from app.services.users import TeamSettings, create_team, team_by_name

DEMO_TEAM = "Northside Outreach (demo)"
_ZONE = ZoneInfo("Europe/London")  # the default zone: the demo's group meets at 18:00 there
# Ofcom reserves 07700 900000-900999 for drama: these numbers reach nobody.
DEMO_DUTY_PHONE = "07700900123"
DEMO_USERS = [
    ("worker@example.org", "Sam Rivers", "worker", "07700900201"),
    ("worker2@example.org", "Jo Patel", "worker", "07700900202"),
    ("supervisor@example.org", "Morgan Lee", "supervisor", "07700900203"),
    ("admin@example.org", "Ash Admin", "admin", None),
]


def database_is_empty(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(User)).one() == 0


def seed_demo(session: Session, password: str | None = None) -> dict[str, str]:
    """Create (or refresh) the demo team and accounts; returns email -> password it set.

    Short safety timings (1 minute grace, 1 minute per escalation level, 1 minute visits allowed)
    let someone trying the demo watch the whole escalation ladder in a few minutes.
    """
    team = team_by_name(session, DEMO_TEAM)
    if team is None:
        team = create_team(
            session,
            TeamSettings(
                name=DEMO_TEAM,
                duty_phone=DEMO_DUTY_PHONE,
                grace_seconds=60,
                escalation_seconds=60,
                min_visit_minutes=1,
                max_visit_minutes=240,
            ),
        )
    passwords = {}
    for email, name, role, phone in DEMO_USERS:
        chosen = password or secrets.token_urlsafe(12)
        user = session.exec(select(User).where(User.email == email)).first()
        if user is None:
            user = User(email=email, name=name, role=role, phone=phone, password_hash="")
            session.add(user)
        user.team_id = None if role == "admin" else team.id
        user.active = True
        user.second_factor_exempt = True  # trying the demo stays two commands away (README)
        user.password_hash = hash_password(chosen)
        passwords[email] = chosen
    session.flush()
    supervisor = session.exec(select(User).where(User.email == "supervisor@example.org")).one()
    team.duty_supervisor_id = supervisor.id
    if session.exec(select(func.count()).select_from(Person).where(Person.team_id == team.id)).one() == 0:
        _seed_caseload(session, session.exec(select(User).where(User.email == "worker@example.org")).one(),
                       session.exec(select(User).where(User.email == "worker2@example.org")).one())
    return passwords


# Clearly fictional people: invented names, drama-range phone numbers, made-up places.
DEMO_PEOPLE = [
    ("Harper Quill (demo)", "Harp", "very_high", ["not_alone", "violence", "dog"], "Flat 9, Larkspur Court, Northside",
     "Large dog, usually shut in the kitchen: ask first. Visit in pairs.", 2),
    ("Rowan Ashdown (demo)", None, "high", ["substance_use", "infection"], "Usually by the canal lock, Mill Lane",
     "Rough sleeping. Prefers mornings; bring a hot drink.", 5),
    ("Jules Marlow (demo)", "JJ", "medium", ["child_safeguarding"], "12 Orchard Row, Northside",
     "Two children at the address. Partner can be hostile to services.", 9),
    ("Sky Penrose (demo)", None, "medium", [], "Room 4, Beacon Hostel", "Shy at first; use first name.", 20),
    ("Morgan Teal (demo)", "Mo", "low", [], "3 Willow Walk, Northside", None, 12),
    ("Avery Lune (demo)", None, "high", ["weapons"], "Unknown: often at the bus station",
     "Said he carries a knife for protection. Meet in public places.", 1),
]


# Clearly fictional partner services (example.org addresses, drama-range numbers).
DEMO_PARTNERS = [
    ("Northside Crisis Team (demo)", "mental_health", "07700900401", "crisis-team@example.org", "1234567", None, None),
    ("Northside Safeguarding Adults Hub (demo)", "safeguarding_adults", "07700900402", "adults-hub@example.org",
     "12345", time(9, 0), time(17, 0)),
    ("Northside Children's Front Door (demo)", "safeguarding_children", "07700900403", "front-door@example.org",
     "1234567", None, None),
    ("Northside Housing Options (demo)", "housing", "07700900404", "housing@example.org", "12345", time(9, 0),
     time(17, 0)),
]


def _seed_caseload(session: Session, worker: User, colleague: User) -> None:
    now = utcnow()
    ids = []
    for n, (name, known_as, level, flags, address, note, days_ago) in enumerate(DEMO_PEOPLE):
        key_worker = worker if n % 3 != 2 else colleague
        person = people.create_person(
            session, key_worker,
            people.PersonDetails(name=name, known_as=known_as, address=address, before_you_visit=note,
                                 phone=f"07700900{300 + n}", key_worker_id=key_worker.id),
            people.RiskUpdate(level=level, flags=flags, reason="Initial assessment (demo data)"),
            now=now - timedelta(days=40))
        contacts_service.log_contact(session, key_worker, contacts_service.ContactEntry(
            person_id=person.id, street_description=None, contact_type="face_to_face",
            happened_at=now - timedelta(days=days_ago), duration_minutes=30, needs=["housing"],
            notes="Demo contact: talked about housing options and agreed to meet again."), now=now)
        ids.append(person.id)
    # Today's agenda for the demo worker, and a weekly meeting, so Today has something on it.
    today = now.date()
    for person_id, kind, at, minutes, repeat in ((ids[0], "home_visit", time(10, 0), 45, "none"),
                                                 (ids[3], "office", time(14, 30), 30, "none"),
                                                 (ids[1], "home_visit", time(16, 0), 30, "weekly")):
        appointments.create(session, worker, appointments.Details(
            person_id=person_id, kind=kind, starts_local=datetime.combine(today, at), duration_minutes=minutes,
            repeat=repeat), now=now)
    _seed_measures(session, worker, [session.get(Person, i) for i in ids[:4]], now)
    from app.services.demo_orders import seed_order

    seed_order(session, worker, session.get(Person, ids[5]), session.get(Person, ids[1]), now)
    _seed_group(session, worker, colleague, [session.get(Person, i) for i in ids], now)
    _seed_plans(session, worker, [session.get(Person, i) for i in ids[:4]], now)
    if session.exec(select(func.count()).select_from(PartnerService)).one() == 0:
        session.add_all([PartnerService(name=name, route=route, phone=phone, secure_email=email, open_days=days,
                                        opens_at=opens, closes_at=closes, area="Northside (demo)")
                         for name, route, phone, email, days, opens, closes in DEMO_PARTNERS])


# Two years of measures every three months: one person getting better, one steady, one worse, one
# better on CORE-10 (totals, oldest first).
DEMO_TRAJECTORIES = (("phq9", (19, 18, 16, 15, 12, 11, 9, 8, 6)), ("gad7", (9, 10, 9, 8, 9, 10, 9, 9, 8)),
                     ("phq9", (8, 9, 11, 12, 12, 14, 15, 15, 16)), ("core10", (24, 22, 21, 18, 17, 15, 13, 12, 10)))


def _answers_for(instrument, total: int) -> dict[str, int]:
    """Answers adding up to `total`, filling items in turn and leaving any risk item at its lowest."""
    risk_items = {prompt.item for prompt in instrument.prompts}
    answers, left = {}, total
    for item in instrument.scored_items:
        by_score = sorted(item.options, key=lambda option: option.score)
        ceiling = 0 if item.key in risk_items else by_score[-1].score
        chosen = next(o for o in by_score if o.score == min(left, ceiling))
        answers[item.key], left = chosen.value, left - chosen.score
    return answers


def _seed_measures(session: Session, worker: User, demo_people: list[Person], now: datetime) -> None:
    from app.instruments import INSTRUMENTS
    from app.services import measures

    for person, (key, totals) in zip(demo_people, DEMO_TRAJECTORIES):
        instrument = INSTRUMENTS[key]
        for n, total in enumerate(totals):
            asked = now - timedelta(days=91 * (len(totals) - 1 - n) + 1)
            measures.take(session, worker, person, instrument,
                          measures.Taken(_answers_for(instrument, total), "alone", asked), now=asked)


DEMO_TOPICS = ("Getting started: hopes and ground rules", "Budgeting and bills", "Food on a budget",
               "Dealing with letters and forms", "Staying well", "Looking back, looking ahead")


def _seed_group(session: Session, worker: User, colleague: User, demo_people: list[Person], now: datetime) -> None:
    """A life-skills group that began two weeks ago (its third session is this evening), two
    registers taken, and a keep-apart flag between two people."""
    from app.services import group_sessions, groups, non_association

    programme = groups.create_programme(session, worker, groups.ProgrammeDetails("Life skills (demo)", 6), now=now)
    for number, topic in enumerate(DEMO_TOPICS, start=1):
        groups.update_plan(session, programme, number, groups.Plan(topic, aims="Demo session plan."))
    first = datetime.combine(now.date() - timedelta(days=14), time(18, 0))
    group = groups.create_group(session, worker, groups.GroupDetails(
        programme.id, f"{first:%A} evening (demo)", "Northside Community Centre, Hall 2", first, 90, "weekly", 8,
        [worker.id, colleague.id]), now=now)
    for person in demo_people[1:5]:
        groups.enrol(session, worker, group, person, now=now, zone=_ZONE)
    non_association.keep_apart(session, worker, demo_people[1], demo_people[5], "Conflict in the hostel (demo).", now=now)
    for meeting in groups.sessions_of(session, group)[:2]:
        meeting.started_at, meeting.started_by_id = groups.session_window(meeting, group, _ZONE)[0], worker.id
        group_sessions.save_register(session, worker, meeting, group, {
            p.id: group_sessions.Mark("attended" if n != 2 or meeting.number == 1 else "unacceptable_absence")
            for n, p in enumerate(demo_people[1:5])}, now=now, zone=_ZONE)


# A plan for each of the people with measures (goals in their words, steps with owners), agreed,
# reviewed; the last one closed with its outcomes and a relapse-prevention plan.
DEMO_GOALS = (("accommodation", "Somewhere of my own, near my daughter", "A tenancy signed", "phq9",
               ("Fill in the housing register form", "person"), ("Ring the council about the deposit", "worker")),
              ("health", "Feel less on edge day to day", "GAD-7 below 10 for three months", "gad7",
               ("See the GP about sleep", "person"), ("Refer to talking therapies", "worker")),
              ("drugs_alcohol", "Cut down drinking to weekends", "Two weeks without a weekday drink", "phq9",
               ("Book a first appointment at the alcohol service", "service")),
              ("work", "Get back into work, part time", "A job or a course started", "core10",
               ("Go to the jobs fair on Thursday", "person"), ("Update the CV together", "worker")))


def _seed_plans(session: Session, worker: User, demo_people: list[Person], now: datetime) -> None:
    from app.services import plan_reviews, plans

    started = now - timedelta(days=200)
    for n, (person, (area, wants, how, measure, *steps)) in enumerate(zip(demo_people, DEMO_GOALS)):
        goal = plans.add_goal(session, worker, person, plans.GoalDetails(area, wants, how, "12", measure=measure),
                              now=started, today=started.date(), measures={measure})
        for what, owner in steps:
            plans.add_step(session, worker, goal, plans.StepDetails(
                what, owner, owner_name="Northside Alcohol Service (demo)" if owner == "service" else None),
                now=started, today=started.date())
        plan = session.get(Plan, goal.plan_id)
        plan_reviews.record_agreement(session, worker, plan, "agrees", None, "Yes, this is what I want.", now=started)
        reviewed = started + timedelta(days=90)
        plan_reviews.review(session, worker, plan, person, {goal.id: "Some progress; keep going (demo review)."},
                     now=reviewed, today=reviewed.date())
        if n == 3:
            plan_reviews.close(session, worker, plan, plan_reviews.Exit(
                {goal.id: ("partly", "On a course; not working yet.")}, warning_signs="Stopping going out",
                what_helps="Seeing friends, the course", who_to_contact="Team duty line; GP"),
                now=now - timedelta(days=2))
