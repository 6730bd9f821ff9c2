"""GPS geofencing filter and events nodes: the geometry against ThingsBoard's own test data
(GeoUtilTest, TbGpsGeofencingFilterNodeTest), the units, and chains in ThingsBoard's export JSON
run through the engine."""

import json

import pytest

from devices.attributes import get_attributes
from rulechains import engine, nodes
from rulechains.nodes.base import ConfigError, NodeContext
from rulechains.nodes.geometry import contains, distance, parse_polygons
from rulechains.tests.helpers import events_of, install_root, make_node, msg, node, run_node
from tbproject.testing.factories import make_device

FILTER = "org.thingsboard.rule.engine.geo.TbGpsGeofencingFilterNode"
EVENTS = "org.thingsboard.rule.engine.geo.TbGpsGeofencingActionNode"
MINUTE = 60_000
START = 1_700_000_000_000

# ThingsBoard's GeoUtilTest
SIMPLE_RECT = "[[51.903762928405555,23.642220786948297],[44.669801219635644,41.83345155830211]]"
RECT_WITH_HOLE = ("[[[44.66980121963565,23.642220786948297],[44.66980121963565,41.83345155830211],"
                  "[51.903762928405555,41.83345155830211],[51.903762928405555,23.642220786948297]],"
                  "[[46.10464044504632,26.234282119122227],[50.8755868028522,26.25625220459488],"
                  "[51.04164771375101,38.5595000692786],[45.99790855491869,38.75723083853248]]]")
SAND_CLOCK = ("[[47.45865912532852,25.531200822337155],[49.76760268310416,29.353995694578202],"
              "[51.42691963936519,25.355440138555966],[51.413219087617655,39.41629484105169],"
              "[49.78179072754938,33.37452133607305],[47.81395478511215,38.867042704235466]]")
SELF_INTERSECTING = ("[[47.42893833699058,27.178954662008522],[51.71367987390804,37.46095466320854],"
                     "[51.659197648757306,27.947907653551276],[47.41407351681856,37.46095466320854]]")
SELF_INTERSECTING_WITH_HOLES = (
    "[[[[47.42893833699058,27.17895466200852],[47.41407351681856,37.46095466320853],"
    "[49.63741575793274,32.47858934221699]],[[47.84342032696093,29.20045703244998],"
    "[49.124803688667576,32.38611942598416],[47.858163521459254,34.714948486085035]]],"
    "[[[51.659197648757306,27.947907653551276],[49.63741575793274,32.47858934221699],"
    "[51.71367987390804,37.46095466320853]],[[51.20718653775245,30.738363015535448],"
    "[51.317169097567344,34.58312797324915],[50.1351109330126,32.51793993882006]]]]")
RECT_CENTER = (48.37082198780869, 32.673342414527355)
RECT_NEAR_BORDER = (48.42916753187315, 40.956064637716224)
OUTSIDE_RECT = (52.94806646045028, 32.91501335472649)
CLOCK_CENTER = (49.993588800145105, 31.289062500000004)
CLOCK_NEAR_BORDER = (47.798651123976306, 26.895045405470082)
OUTSIDE_CLOCK = (49.553754212665936, 28.03748985004787)
UPPER_CENTER = (50.750366308834884, 32.51952867922265)
NEAR_BORDER = (51.16552151942722, 35.66125090181154)
OUTSIDE_CROSS = (49.66777277299077, 33.26651158529272)
FAR_AWAY = (78.76578380252519, 15.646485040786361)
# ThingsBoard's TbGpsGeofencingFilterNodeTest: 0.334 km and 1.112 km from the center
CIRCLE_CENTER, INSIDE_CIRCLE, OUTSIDE_CIRCLE = (49.0384, 31.4513), (49.0354, 31.4513), (49.0284, 31.4513)


@pytest.mark.parametrize("polygons, point, inside", [
    (SIMPLE_RECT, RECT_CENTER, True), (SIMPLE_RECT, RECT_NEAR_BORDER, True), (SIMPLE_RECT, OUTSIDE_RECT, False),
    (RECT_WITH_HOLE, RECT_NEAR_BORDER, True), (RECT_WITH_HOLE, RECT_CENTER, False),
    (RECT_WITH_HOLE, OUTSIDE_RECT, False),
    (SAND_CLOCK, CLOCK_CENTER, True), (SAND_CLOCK, CLOCK_NEAR_BORDER, True), (SAND_CLOCK, OUTSIDE_CLOCK, False),
    (SELF_INTERSECTING, UPPER_CENTER, True), (SELF_INTERSECTING, NEAR_BORDER, True),
    (SELF_INTERSECTING, OUTSIDE_CROSS, False), (SELF_INTERSECTING, FAR_AWAY, False),
    (SELF_INTERSECTING_WITH_HOLES, NEAR_BORDER, True), (SELF_INTERSECTING_WITH_HOLES, UPPER_CENTER, False),
    (SELF_INTERSECTING_WITH_HOLES, OUTSIDE_CROSS, False),
])
def test_it_finds_points_in_polygons_as_thingsboards_geo_util(polygons, point, inside):
    assert contains(parse_polygons(polygons), *point) is inside


@pytest.mark.parametrize("point, in_outline, in_holed", [
    ((1.5, 1.5), True, True), ((1, 1), True, False),  # inside; inside the hole
    ((0, 1), False, False), ((2, 2), False, False), ((2, 0), False, False),  # an edge and vertices are not inside
    ((0.5, 0.5), True, False), ((0.5, 1), True, False),  # a vertex and an edge of the hole
])
def test_edges_and_vertices_are_outside_as_jts_contains_says(point, in_outline, in_holed):
    outline = parse_polygons("[[0,0],[2,2]]")  # two corners: a rectangle
    holed = parse_polygons("[[[0,0],[0,2],[2,2],[2,0]], [[0.5,0.5],[0.5,1.2],[1.2,1.2],[1.2,0.5]]]")
    assert contains(outline, *point) is in_outline and contains(holed, *point) is in_holed


def test_distances_are_haversine_on_the_mean_earth_radius_in_each_unit():
    km = distance(*INSIDE_CIRCLE, *CIRCLE_CENTER, "KILOMETER")
    assert round(km, 3) == 0.334 and round(distance(*OUTSIDE_CIRCLE, *CIRCLE_CENTER, "KILOMETER"), 3) == 1.112
    assert distance(*INSIDE_CIRCLE, *CIRCLE_CENTER, "METER") == pytest.approx(km * 1000)
    assert distance(*INSIDE_CIRCLE, *CIRCLE_CENTER, "FOOT") == pytest.approx(km * 3280.84)
    assert distance(*INSIDE_CIRCLE, *CIRCLE_CENTER, "MILE") == pytest.approx(km * 0.62137)
    assert distance(*INSIDE_CIRCLE, *CIRCLE_CENTER, "NAUTICAL_MILE") == pytest.approx(km * 0.539957)
    assert distance(0, 0, 0, 180, "KILOMETER") == pytest.approx(6371.0087714 * 3.141592653589793)


def located(tenant, point, metadata=None, **data):
    return msg(tenant, data={"latitude": point[0], "longitude": point[1], **data}, metadata=metadata)


def test_the_filter_routes_by_the_configured_polygon_and_circle(tenant):
    polygon = {"fetchPerimeterInfoFromMessageMetadata": False, "perimeterType": "POLYGON",
               "polygonsDefinition": SIMPLE_RECT}
    circle = {"fetchPerimeterInfoFromMessageMetadata": False, "perimeterType": "CIRCLE", "centerLatitude": 49.0384,
              "centerLongitude": 31.4513, "range": 1.0, "rangeUnit": "KILOMETER"}
    outs = run_node(tenant, FILTER, [located(tenant, RECT_CENTER), located(tenant, OUTSIDE_RECT)], **polygon)
    assert [o.relation for [o] in outs] == ["True", "False"]
    outs = run_node(tenant, FILTER, [located(tenant, INSIDE_CIRCLE), located(tenant, OUTSIDE_CIRCLE)], **circle)
    assert [o.relation for [o] in outs] == ["True", "False"]


def test_the_perimeter_comes_from_the_metadata_in_each_of_thingsboards_forms(tenant):
    circle = json.dumps({"latitude": 49.0384, "longitude": 31.4513, "radius": 500, "radiusUnit": "METER"})
    new_polygon = run_node(tenant, FILTER, [located(tenant, RECT_CENTER, {"ss_perimeter": SIMPLE_RECT})],
                           **nodes.get_node(FILTER).defaults)
    new_circle = run_node(tenant, FILTER, [located(tenant, INSIDE_CIRCLE, {"zone": circle}),
                                           located(tenant, OUTSIDE_CIRCLE, {"zone": circle})],
                          fetchPerimeterInfoFromMessageMetadata=True, perimeterType="CIRCLE", perimeterKeyName="zone")
    old = {"fetchPerimeterInfoFromMessageMetadata": True, "perimeterType": "POLYGON"}  # before perimeterKeyName
    old_polygon = run_node(tenant, FILTER, [located(tenant, OUTSIDE_RECT, {"perimeter": SIMPLE_RECT})], **old)
    old_circle = run_node(tenant, FILTER, [located(tenant, INSIDE_CIRCLE, {
        "centerLatitude": "49.0384", "centerLongitude": "31.4513", "range": "1", "rangeUnit": "KILOMETER"})], **old)
    assert [o.relation for [o] in (*new_polygon, *new_circle, *old_polygon, *old_circle)] == [
        "True", "True", "False", "False", "True"]


def test_coordinates_may_be_text_or_come_from_the_metadata(tenant):
    from_meta = msg(tenant, data={"t": 1}, metadata={"lat": str(RECT_CENTER[0]), "lon": str(RECT_CENTER[1]),
                                                      "ss_perimeter": SIMPLE_RECT})
    as_text = msg(tenant, data={"lat": str(RECT_CENTER[0]), "lon": RECT_CENTER[1]},
                  metadata={"ss_perimeter": SIMPLE_RECT})
    outs = run_node(tenant, FILTER, [from_meta, as_text], latitudeKeyName="lat", longitudeKeyName="lon",
                    fetchPerimeterInfoFromMessageMetadata=True, perimeterKeyName="ss_perimeter")
    assert [o.relation for [o] in outs] == ["True", "True"]


def test_bad_messages_fail_with_thingsboards_texts_and_the_rest_of_the_batch_goes_on(tenant):
    perimeter = {"ss_perimeter": SIMPLE_RECT}
    batch = [msg(tenant, data=[1, 2], metadata=perimeter),
             msg(tenant, data={"longitude": 30}, metadata=perimeter),
             located(tenant, RECT_CENTER),
             msg(tenant, data={"latitude": "north", "longitude": 30}, metadata=perimeter),
             located(tenant, RECT_CENTER, {"ss_perimeter": "[[1, 2], [3"}),
             located(tenant, RECT_CENTER, {"ss_perimeter": "[[1, 2]]"}),
             located(tenant, RECT_CENTER, perimeter)]
    outs = run_node(tenant, FILTER, batch, **nodes.get_node(FILTER).defaults)
    assert [o.relation for [o] in outs] == ["Failure"] * 6 + ["True"]
    errors = [o.error for [o] in outs[:6]]
    assert errors[:4] == ["Incoming Message is not a valid JSON object!",
                          "Incoming Message has no latitude in data or metadata!", "Missing perimeter definition!",
                          'For input string: "north"']
    assert "not valid JSON" in errors[4] and "Invalid number of points in LinearRing" in errors[5]
    circle = {"fetchPerimeterInfoFromMessageMetadata": False, "perimeterType": "CIRCLE", "centerLatitude": 0,
              "centerLongitude": 0, "range": 1, "rangeUnit": "MILE"}
    [[off_world]] = run_node(tenant, FILTER, [located(tenant, (95, 0))], **circle)
    assert off_world.relation == "Failure" and off_world.error.startswith("Bad Y value 95.0 is not in boundary")


@pytest.mark.parametrize("configuration, key", [
    ({"perimeterType": "SQUARE"}, "perimeterType"),
    ({"fetchPerimeterInfoFromMessageMetadata": "yes"}, "fetchPerimeterInfoFromMessageMetadata"),
    ({"fetchPerimeterInfoFromMessageMetadata": False}, "polygonsDefinition"),
    ({"fetchPerimeterInfoFromMessageMetadata": False, "polygonsDefinition": "[[1,2],"}, "polygonsDefinition"),
    ({"fetchPerimeterInfoFromMessageMetadata": False, "perimeterType": "CIRCLE", "rangeUnit": "FEET"}, "rangeUnit"),
    ({"fetchPerimeterInfoFromMessageMetadata": False, "perimeterType": "CIRCLE", "rangeUnit": "METER",
      "centerLatitude": 1, "centerLongitude": 2}, "range"),
    ({"latitudeKeyName": 5}, "latitudeKeyName"),
    ({"perimeterKeyName": ["a"]}, "perimeterKeyName"),
])
def test_bad_configurations_are_refused_naming_the_key(tenant, configuration, key):
    for kind in (FILTER, EVENTS):
        with pytest.raises(ConfigError, match=key):
            make_node(tenant, kind, **configuration)


@pytest.mark.parametrize("configuration, key", [
    ({"minInsideDuration": "long"}, "minInsideDuration"), ({"minOutsideDuration": "1.5"}, "minOutsideDuration"),
    ({"minInsideDurationTimeUnit": "WEEKS"}, "minInsideDurationTimeUnit"),
    ({"reportPresenceStatusOnEachMessage": 2}, "reportPresenceStatusOnEachMessage"),
])
def test_bad_event_options_are_refused_naming_the_key(tenant, configuration, key):
    with pytest.raises(ConfigError, match=key):
        make_node(tenant, EVENTS, fetchPerimeterInfoFromMessageMetadata=True, **configuration)


def events_node(tenant, **configuration):
    config = {**nodes.get_node(EVENTS).defaults, "fetchPerimeterInfoFromMessageMetadata": False,
              "polygonsDefinition": SIMPLE_RECT, **configuration}
    return make_node(tenant, EVENTS, **config)


def relations(instance, tenant, device, *points, at=START):
    outs = instance.process_batch(NodeContext(tenant.pk, at), [_from(tenant, device, p) for p in points])
    return [o.relation for [o] in outs]


def _from(tenant, device, point):
    return msg(tenant, device, data={"latitude": point[0], "longitude": point[1]})


def test_events_report_entered_and_left_then_presence_on_each_message(tenant):
    device = make_device(tenant, "tracker")
    instance = events_node(tenant)
    assert relations(instance, tenant, device, RECT_CENTER, RECT_CENTER, OUTSIDE_RECT, OUTSIDE_RECT) == [
        "Entered", "Inside", "Left", "Outside"]


def test_events_report_presence_once_after_the_minimal_duration_and_keep_it_across_batches(tenant):
    device = make_device(tenant, "tracker")
    options = {"reportPresenceStatusOnEachMessage": False, "minInsideDuration": 2,
               "minInsideDurationTimeUnit": "MINUTES", "minOutsideDuration": 30,
               "minOutsideDurationTimeUnit": "SECONDS"}
    instance = events_node(tenant, **options)
    assert relations(instance, tenant, device, RECT_CENTER, at=START) == ["Entered"]
    assert relations(instance, tenant, device, RECT_CENTER, at=START + 2 * MINUTE) == ["Success"]  # not longer
    later = events_node(tenant, **options)
    later.id = instance.id  # the same rule node, run by another process: the state is stored
    assert relations(later, tenant, device, RECT_CENTER, RECT_CENTER, at=START + 2 * MINUTE + 1) == [
        "Inside", "Success"]
    assert relations(later, tenant, device, OUTSIDE_RECT, at=START + 3 * MINUTE) == ["Left"]
    assert relations(later, tenant, device, OUTSIDE_RECT, at=START + 3 * MINUTE + 30_001) == ["Outside"]
    [state] = get_attributes(device.pk, "SERVER_SCOPE", [str(instance.id)])
    assert json.loads(state["value"]) == {"inside": False, "stateSwitchTime": START + 3 * MINUTE, "stayed": True}


def test_an_old_events_node_reports_presence_once_and_bad_messages_fail_alone(tenant):
    device = make_device(tenant, "tracker")
    old = {k: v for k, v in nodes.get_node(EVENTS).defaults.items() if k != "reportPresenceStatusOnEachMessage"}
    instance = make_node(tenant, EVENTS, **{**old, "fetchPerimeterInfoFromMessageMetadata": False,
                                            "polygonsDefinition": SIMPLE_RECT, "minInsideDuration": 0})
    bad = msg(tenant, device, data={"longitude": 1})
    outs = instance.process_batch(NodeContext(tenant.pk, START), [_from(tenant, device, RECT_CENTER), bad,
                                                                  _from(tenant, device, RECT_CENTER)])
    assert [o.relation for [o] in outs] == ["Entered", "Failure", "Success"]
    assert outs[1][0].error == "Incoming Message has no latitude in data or metadata!"


def test_each_originator_and_each_node_has_its_own_state(tenant):
    mine, also_mine = make_device(tenant, "mine"), make_device(tenant, "also mine")
    first, second = events_node(tenant), events_node(tenant)
    assert relations(first, tenant, mine, RECT_CENTER) == ["Entered"]
    assert relations(first, tenant, also_mine, RECT_CENTER) == ["Entered"]
    assert relations(second, tenant, mine, RECT_CENTER) == ["Entered"]
    assert relations(first, tenant, mine, RECT_CENTER) == ["Inside"]


def test_another_tenants_or_an_unknown_originator_never_reaches_the_node_nor_gets_state(tenant, other_tenant):
    """A message naming another tenant's device (or no entity) is dropped where it enters the
    engine: that device's presence state (a server attribute of it) is never read nor written."""
    theirs, mine = make_device(other_tenant, "theirs"), make_device(tenant, "mine")
    config = {**nodes.get_node(EVENTS).defaults, "fetchPerimeterInfoFromMessageMetadata": False,
              "polygonsDefinition": SIMPLE_RECT}
    chain = install_root(tenant, [node(EVENTS, "events", True, **config)], [])
    report = engine.process([_from(tenant, theirs, RECT_CENTER), _from(tenant, None, RECT_CENTER),
                             _from(tenant, mine, RECT_CENTER)], now=START)
    assert report.refused == 2 and report.node_runs == 1
    errors = {e["entityId"]: e.get("error") for e in events_of(chain.nodes.get(index=0), "IN")}
    assert errors.pop(str(mine.pk)) is None and len(errors) == 2
    assert errors[str(theirs.pk)] == (f"Device with id [{theirs.pk}] is not found: the message is dropped, its "
                                      "originator is not an entity of this tenant")
    assert get_attributes(theirs.pk, "SERVER_SCOPE") == []
    assert len(get_attributes(mine.pk, "SERVER_SCOPE")) == 1  # the tenant's own device has its state


def test_chains_exported_by_thingsboard_filter_and_report_geofence_events(tenant):
    """A filter (True -> events node, False -> log) and the events node's five relations to logs,
    with the configurations as ThingsBoard 3.6 exports them."""
    device = make_device(tenant, "tracker")
    region = "[[40.0,20.0],[40.0,50.0],[55.0,50.0],[55.0,20.0]]"
    exported_filter = {"latitudeKeyName": "latitude", "longitudeKeyName": "longitude", "perimeterType": "POLYGON",
                       "fetchPerimeterInfoFromMessageMetadata": False, "perimeterKeyName": "ss_perimeter",
                       "polygonsDefinition": region, "centerLatitude": None, "centerLongitude": None,
                       "range": None, "rangeUnit": None}
    exported_events = {**exported_filter, "fetchPerimeterInfoFromMessageMetadata": True,
                       "minInsideDuration": 1, "minInsideDurationTimeUnit": "MINUTES", "minOutsideDuration": 1,
                       "minOutsideDurationTimeUnit": "MINUTES", "reportPresenceStatusOnEachMessage": False}
    names = ("Entered", "Left", "Inside", "Outside", "Success")
    chain = install_root(tenant, [node(FILTER, "in the region", **exported_filter),
                                  node(EVENTS, "zone events", **exported_events), node(nodes.LOG, "far", True),
                                  *(node(nodes.LOG, n, True) for n in names)],
                         [(0, 1, "True"), (0, 2, "False"), *((1, 3 + i, n) for i, n in enumerate(names))])
    zone = {"ss_perimeter": SIMPLE_RECT}

    def send(point, at):
        engine.process([msg(tenant, device, data={"latitude": point[0], "longitude": point[1]}, metadata=zone)],
                       now=at)

    for point, at in ((RECT_CENTER, START), (RECT_CENTER, START + 30_000), (RECT_CENTER, START + 2 * MINUTE),
                      (OUTSIDE_RECT, START + 3 * MINUTE), (FAR_AWAY, START + 4 * MINUTE)):
        send(point, at)
    got = {n: len(events_of(chain.nodes.get(index=3 + i), "IN")) for i, n in enumerate(names)}
    assert got == {"Entered": 1, "Left": 1, "Inside": 1, "Outside": 0, "Success": 1}
    assert len(events_of(chain.nodes.get(index=2), "IN")) == 1  # far away: the filter says False
    events_id = str(chain.nodes.get(index=1).pk)
    [state] = get_attributes(device.pk, "SERVER_SCOPE", [events_id])
    assert json.loads(state["value"]) == {"inside": False, "stateSwitchTime": START + 3 * MINUTE, "stayed": False}
