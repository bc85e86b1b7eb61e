"""The page's "Needs attention now" written without the template engine (dashboard/lists_markup.py)
is the template's markup as it was, byte for byte."""

from django.template import Context, Template

from commitments.customer import services as customer_services
from commitments.list_rows import list_rows
from commitments.models import Commitment, Status
from dashboard import selectors
from dashboard.lists_markup import now_lists
from tests.dashboard.conftest import DAY, Story
from tests.dashboard.test_page import grow
from tests.factories import customer_details, make_commitment

# templates/dashboard/dashboard.html's lists before they were written in Python: the markup's
# reference. A change to the lists' markup is made in dashboard/lists_markup.py and here, together.
AS_THE_TEMPLATE_WROTE_THEM = Template(
    """{% load timing %}<ul class="dash-tiles">
  {% for section, rows in sections %}
  <li class="dash-tile dash-tile-{{ section.entry.key }}{% if section.count %} is-hot{% endif %}">
    <a href="#list-{{ section.entry.key }}"><span class="stat-number">{{ section.count }}</span><span class="stat-label">{{ section.entry.title }}</span></a>
  </li>
  {% endfor %}
</ul>

{% for section, rows in sections %}
<section class="card card-flush dash-list{% if not section.rows %} is-empty{% endif %}" id="list-{{ section.entry.key }}" aria-labelledby="list-{{ section.entry.key }}-title">
  <div class="card-title dash-list-head">
    <div>
      <h3 id="list-{{ section.entry.key }}-title">{{ section.entry.title }} <span class="badge">{{ section.count }}</span>{% if not section.rows %} <span class="muted small">Nothing here.</span>{% endif %}</h3>
      <p class="muted small">{{ section.entry.explanation }}</p>
    </div>
    <a class="small" href="{% url 'dashboard:list_csv' section.entry.key %}?{{ filters }}" download>Download CSV</a>
  </div>
  {% if section.rows %}
  {% regroup rows by commitment.owner as by_owner %}
  {% for group in by_owner %}
  <h4 class="dash-owner">{{ group.grouper.display_name }} <span class="muted small">{{ group.list|length }}</span></h4>
  <ul class="items">
    {% for row in group.list %}
      {{ row.html }}
      {% if section.entry.key == "replies" and row.commitment.reply_text %}{% with c=row.commitment %}<li class="dash-reply"><span class="muted small">{{ c.customer.name }} wrote {{ c.reply_at|relative }}:</span> “{{ c.reply_text|truncatechars:160 }}”</li>{% endwith %}{% endif %}
    {% endfor %}
  </ul>
  {% endfor %}
  {% if section.count > section.rows|length %}<p class="muted small dash-more">Showing {{ section.rows|length }} of {{ section.count }}: the CSV has them all.</p>{% endif %}
  {% endif %}
</section>
{% endfor %}"""  # noqa: E501
)


def both_ways(story: Story, filters: str, **narrow) -> tuple[str, str]:
    scope = selectors.dashboard_scope(user=story.lead, **narrow)
    assert scope is not None
    sections = [
        (section, list_rows(section.rows, user=story.lead, now=story.now))
        for section in selectors.now_sections(scope=scope, now=story.now)
    ]
    theirs = AS_THE_TEMPLATE_WROTE_THEM.render(Context({"sections": sections, "filters": filters}))
    return theirs, str(now_lists(sections, filters=filters))


def test_the_lists_are_written_as_the_template_wrote_them(story: Story) -> None:
    # Given long lists (more than shown) of several owners, words that need escaping, replies short
    # and long, and lists with nothing in them
    grow(story, 48)
    odd = make_commitment(
        actor=story.alex,
        summary='Ask "Pat" for the <serial> & model',
        customer=customer_details(name="Zoë O'Brien & <Sons>", email="zoe@example.com", phone="+12025550999"),
    )
    Commitment.objects.filter(pk=odd.pk).update(status=Status.MISSED, due_at=story.now - DAY)
    customer_services.record_text_reply(customers=[odd.customer], body='Is it <done> & "sent"? ' * 12)
    customer_services.record_text_reply(customers=[story.c["c5"].customer], body="Shipping today?")
    cases = [
        ({}, ""),
        ({}, "owner=3&channel=<sms>"),
        ({"owner_id": story.blake.pk}, "owner=1"),
        ({"owner_id": story.lead.pk}, ""),  # Every list empty.
    ]
    written = []
    for narrow, filters in cases:
        # When the lists are written both ways
        theirs, ours = both_ways(story, filters, **narrow)
        # Then they are the same, to the byte
        assert ours == theirs
        written.append(ours)
    # (and the cases wrote every part: replies, a long one cut, escaped words, more than shown, empty lists)
    for part in ("dash-reply", "…”", "&lt;serial&gt;", "Zoë O&#x27;Brien &amp; &lt;Sons&gt;", "Showing 10 of"):
        assert part in written[0], part
    assert "?owner=3&amp;channel=&lt;sms&gt;" in written[1]
    assert "Nothing here." in written[3] and "is-hot" not in written[3]
