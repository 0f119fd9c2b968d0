"""E-mail delivery of editions: messages fit for mail-to-device services, SMTP, a delivery ledger.

``address`` checks addresses and SMTP server URLs (a leaf the configuration uses); ``message``
makes one message per recipient and file; ``smtp`` speaks to the server; ``ledger`` records
each delivery so that a rerun sends only what was not sent; ``run`` ties them together for
``broadsheet send`` and ``broadsheet digest --send``.
"""
