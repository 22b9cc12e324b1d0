"""Open311 GeoReport v2: the endpoints through which the city's other systems read and
create concerns (views.py), and the forwarder that hands new chat concerns to the city's
own Open311 system and brings its status back (forwarder.py). See docs/open311.md."""
