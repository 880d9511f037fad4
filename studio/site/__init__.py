"""The show's website: an index, a page per episode and an embeddable player, as static files.

`render.render_site` is a pure function from plain values (`SiteShow`, `SiteEpisode`) to the
files' bytes by their path in the output folder; `studio.show.site` gathers those values from a
built show and writes what changed. Templates are Jinja2 (`templates/`), with one stylesheet and
one script (`static/`); a show may override any of them from a folder of its own. `paths` says
where pages go, for the feed's links, without importing Jinja2.
"""
