"""Mappings between the CTM's records and the host's XML records, kept in files integrators edit.

``records`` says what each mapping id may map and where it may write, ``schema`` what a file
must look like (``problems`` where it went wrong), ``xpaths`` which XPaths a file may use,
``converters`` how values change on the way, ``engine`` loads mappings and maps records,
``diff`` and ``tools`` serve the ``ctm mappings`` commands. ``docs/integrators.md`` is the guide.
"""
