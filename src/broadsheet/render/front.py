"""What a newspaper front page is made of, chosen from the issue: values for the print templates.

The lead is the article marked ``lead: true`` (the first so marked), else the first article
of the first section; its section is printed first, the lead first in it.  Each article's first picture is offered
apart from its body (``pictures`` and ``bodies``), so that a template can set it across the
columns above the text instead of inside a column, where it would leave a hole.  The teasers
are the next stories of the other sections: the first and second article of each, in order,
up to ``MAX_TEASERS``.  Nothing here knows a page: the page references
and the jump lines are the layout's (CSS ``target-counter()`` and named strings).
"""

from __future__ import annotations

from ..model import Figure, Issue

MAX_TEASERS = 4
#: Characters of body text one page column holds, roughly (9.5 pt type): for the contents page's
#: "only over 8 pages" estimate, never for placing text.
COLUMN_CHARS = {"cjk": 1200, "latin": 2600}
CONTENTS_OVER_PAGES = 8


def front_page(issue: Issue, columns: int, cjk: bool) -> dict:
    """Return the front page's parts for the print templates (see the module's docstring)."""
    filled = [s for s in issue.sections if s.articles]  # render_issue refuses an issue without articles
    marked = next(((s, a) for s in filled for a in s.articles if a.lead), None)
    first, lead = marked or (filled[0], filled[0].articles[0])
    # the lead's section first, and the lead first in it; the other sections in their order
    front = first.model_copy(update={"articles": (lead, *(a for a in first.articles if a is not lead))})
    sections = (front, *(s for s in filled if s is not first))
    others = sections[1:]
    chosen = [(s, s.articles[0]) for s in others] + [(s, s.articles[1]) for s in others if len(s.articles) > 1]
    order = {a.id: n for n, a in enumerate(a for s in sections for a in s.articles)}
    teasers = sorted(chosen[:MAX_TEASERS], key=lambda pair: order[pair[1].id])
    pictures, bodies = {}, {}
    for article in issue.articles:
        figure = next((b for b in article.blocks if isinstance(b, Figure)), None)
        if figure is not None:
            pictures[article.id] = figure.image
            bodies[article.id] = article.model_copy(
                update={"blocks": tuple(b for b in article.blocks if b is not figure)})
        else:
            bodies[article.id] = article
    per_page = columns * COLUMN_CHARS["cjk" if cjk else "latin"]
    pages = sum(-(-sum(len(a.text) + len(a.title) * 4 for a in s.articles) // per_page) for s in issue.sections)
    return {
        "lead": lead,
        "lead_section": front,
        "sections": sections,
        "teasers": tuple(teasers),
        "pictures": pictures,
        "bodies": bodies,
        "estimated_pages": pages,
        "contents": pages > CONTENTS_OVER_PAGES,
    }
