/**
 * Tests of the Latin American region presets: the frozen table, haversine distances against
 * independently known values, nearest-first ordering, and typed errors for unknown ids and bad
 * endpoint options at setup.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  greatCircleDistanceKm,
  LATAM_REGION_PRESETS,
  latamRegionPreset,
  orderByDistance,
} from '../../../src/client/regional/latam-region-presets.js';
import { RegionalOptionsError, UnknownRegionError } from '../../../src/client/regional/regional-errors.js';
import { regionalFailover } from '../../../src/client/regional/regional-failover.js';

test('the seven presets are frozen, with stable ids, names and country codes', () => {
  assert.deepEqual(
    LATAM_REGION_PRESETS.map((p) => `${p.id}/${p.country}/${p.name}`),
    [
      'sao-paulo/BR/São Paulo',
      'rio-de-janeiro/BR/Rio de Janeiro',
      'buenos-aires/AR/Buenos Aires',
      'santiago/CL/Santiago',
      'bogota/CO/Bogotá',
      'lima/PE/Lima',
      'mexico-city/MX/Mexico City',
    ],
  );
  assert.ok(Object.isFrozen(LATAM_REGION_PRESETS));
  for (const p of LATAM_REGION_PRESETS) assert.ok(Object.isFrozen(p), p.id);
  assert.throws(() => {
    (LATAM_REGION_PRESETS[0] as { latitude: number }).latitude = 0;
  }, TypeError);
  assert.equal(latamRegionPreset('bogota').name, 'Bogotá');
});

test('greatCircleDistanceKm matches independently known distances', () => {
  // One degree of arc on a sphere of radius 6371.0088 km: 2 * pi * R / 360.
  const degree = (2 * Math.PI * 6371.0088) / 360;
  assert.ok(
    Math.abs(greatCircleDistanceKm({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 1 }) - degree) <
      1e-6,
  );
  assert.ok(
    Math.abs(greatCircleDistanceKm({ latitude: 0, longitude: 0 }, { latitude: 1, longitude: 0 }) - degree) <
      1e-6,
  );
  // Antipodes: half the circumference (haversine is ill-conditioned there: allow 10 m).
  const half = Math.PI * 6371.0088;
  assert.ok(
    Math.abs(
      greatCircleDistanceKm({ latitude: 10, longitude: 20 }, { latitude: -10, longitude: -160 }) - half,
    ) < 0.01,
  );
  const sp = latamRegionPreset('sao-paulo');
  const rio = latamRegionPreset('rio-de-janeiro');
  const km = greatCircleDistanceKm(sp, rio);
  assert.ok(km > 350 && km < 370, `São Paulo - Rio is about 360 km, got ${km}`);
  assert.equal(greatCircleDistanceKm(rio, sp), km, 'symmetric');
  assert.equal(greatCircleDistanceKm(sp, sp), 0);
  const baScl = greatCircleDistanceKm(latamRegionPreset('buenos-aires'), latamRegionPreset('santiago'));
  assert.ok(baScl > 1100 && baScl < 1180, `Buenos Aires - Santiago is about 1140 km, got ${baScl}`);
});

test('orderByDistance: from Lima, Bogotá (about 1890 km) comes before Santiago (about 2470 km)', () => {
  assert.deepEqual(
    orderByDistance('lima').map((p) => p.id),
    ['lima', 'bogota', 'santiago', 'buenos-aires', 'sao-paulo', 'rio-de-janeiro', 'mexico-city'],
  );
  assert.deepEqual(
    orderByDistance('mexico-city').map((p) => p.id),
    ['mexico-city', 'bogota', 'lima', 'santiago', 'buenos-aires', 'sao-paulo', 'rio-de-janeiro'],
  );
  // Montevideo, by coordinates: Buenos Aires is across the river.
  const montevideo = { latitude: -34.9011, longitude: -56.1645 };
  assert.equal(orderByDistance(montevideo)[0]!.id, 'buenos-aires');
  // The input is not reordered in place.
  assert.equal(LATAM_REGION_PRESETS[0]!.id, 'sao-paulo');
});

test('unknown region ids and unusable endpoints are typed errors at setup', () => {
  assert.throws(() => latamRegionPreset('atlantis'), UnknownRegionError);
  assert.throws(
    () => orderByDistance('atlantis'),
    (err: UnknownRegionError) => {
      assert.equal(err.code, 'AVX_CLIENT_UNKNOWN_REGION');
      assert.equal(err.region, 'atlantis');
      return true;
    },
  );
  assert.throws(
    () => regionalFailover({ endpoints: [{ region: 'atlantis', url: 'https://a.example' }] }),
    UnknownRegionError,
  );
  assert.throws(
    () => regionalFailover({ endpoints: [{ region: 'lima', url: 'https://l.example' }], near: 'gotham' }),
    UnknownRegionError,
  );
  const bad = [
    { endpoints: [] },
    { endpoints: [{ region: 'lima', url: 'https://l.example/v1' }] },
    { endpoints: [{ region: 'lima', url: 'ftp://l.example' }] },
    { endpoints: [{ region: 'lima', url: 'not a url' }] },
    {
      endpoints: [
        { region: 'lima', url: 'https://a.example' },
        { region: 'lima', url: 'https://b.example' },
      ],
    },
    { endpoints: [{ region: 'quito', url: 'https://q.example', latitude: 95, longitude: 0 }] },
    { endpoints: [{ region: 'lima', url: 'https://l.example' }], failureThreshold: 0 },
    { endpoints: [{ region: 'lima', url: 'https://l.example' }], hedge: { afterMs: -1 } },
  ];
  for (const options of bad) {
    assert.throws(() => regionalFailover(options), RegionalOptionsError, JSON.stringify(options));
  }
});

test('a custom region with coordinates is accepted, and near orders every endpoint nearest first', () => {
  const middleware = regionalFailover({
    endpoints: [
      { region: 'mexico-city', url: 'https://mx.example' },
      { region: 'santiago', url: 'https://cl.example' },
      { region: 'quito', name: 'Quito', url: 'https://ec.example', latitude: -0.1807, longitude: -78.4678 },
      { region: 'lima', url: 'https://pe.example' },
    ],
    near: 'lima',
  });
  // Lima - Quito is about 1320 km, Lima - Santiago about 2470 km, Lima - Mexico City about 4260 km.
  assert.deepEqual(middleware.regions, ['lima', 'quito', 'santiago', 'mexico-city']);
  assert.deepEqual(
    middleware.health().map((h) => `${h.name} ${h.origin} ${h.state}`),
    [
      'Lima https://pe.example closed',
      'Quito https://ec.example closed',
      'Santiago https://cl.example closed',
      'Mexico City https://mx.example closed',
    ],
  );
  const given = regionalFailover({
    endpoints: [
      { region: 'mexico-city', url: 'https://mx.example' },
      { region: 'lima', url: 'https://pe.example' },
    ],
  });
  assert.deepEqual(given.regions, ['mexico-city', 'lima'], 'without near, the given order');
});
