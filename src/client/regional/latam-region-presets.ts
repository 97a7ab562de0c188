/**
 * Latin American region presets for regional failover: seven cities with a stable id, a display
 * name, an ISO 3166-1 alpha-2 country code and the coordinates (WGS 84 degrees) of the city
 * centre, and an ordering of regions by great-circle distance (haversine formula on a sphere of
 * the IUGG mean Earth radius, 6371.0088 km) so that "nearest first" follows from where a user is.
 *
 * Presets supply geography only: the URL of each region's endpoint is always configured by the
 * user (see `regionalFailover`).
 */
import { RegionalOptionsError, UnknownRegionError } from './regional-errors.js';

/** A point on the Earth, in decimal degrees (WGS 84): latitude -90..90, longitude -180..180. */
export interface GeoPoint {
  readonly latitude: number;
  readonly longitude: number;
}

/** Ids of the Latin American presets. */
export type LatamRegionId =
  | 'sao-paulo'
  | 'rio-de-janeiro'
  | 'buenos-aires'
  | 'santiago'
  | 'bogota'
  | 'lima'
  | 'mexico-city';

/** One preset region. */
export interface RegionPreset extends GeoPoint {
  /** Stable id, lowercase ASCII with hyphens, e.g. `'sao-paulo'`. */
  readonly id: LatamRegionId;
  /** Display name, e.g. `'São Paulo'`. */
  readonly name: string;
  /** ISO 3166-1 alpha-2 country code, e.g. `'BR'`. */
  readonly country: string;
}

function preset(
  id: LatamRegionId,
  name: string,
  country: string,
  latitude: number,
  longitude: number,
): RegionPreset {
  return Object.freeze({ id, name, country, latitude, longitude });
}

/** The seven presets (city centres), frozen. */
export const LATAM_REGION_PRESETS: readonly RegionPreset[] = Object.freeze([
  preset('sao-paulo', 'São Paulo', 'BR', -23.5505, -46.6333),
  preset('rio-de-janeiro', 'Rio de Janeiro', 'BR', -22.9068, -43.1729),
  preset('buenos-aires', 'Buenos Aires', 'AR', -34.6037, -58.3816),
  preset('santiago', 'Santiago', 'CL', -33.4489, -70.6693),
  preset('bogota', 'Bogotá', 'CO', 4.711, -74.0721),
  preset('lima', 'Lima', 'PE', -12.0464, -77.0428),
  preset('mexico-city', 'Mexico City', 'MX', 19.4326, -99.1332),
]);

const PRESET_IDS: readonly string[] = LATAM_REGION_PRESETS.map((p) => p.id);

/** Mean Earth radius in km (IUGG). */
const EARTH_RADIUS_KM = 6371.0088;
const RADIANS = Math.PI / 180;

/** True when `id` names a preset. */
export function isLatamRegionId(id: string): id is LatamRegionId {
  return PRESET_IDS.includes(id);
}

/** The preset with this id; throws {@link UnknownRegionError} when there is none. */
export function latamRegionPreset(id: string): RegionPreset {
  for (const p of LATAM_REGION_PRESETS) if (p.id === id) return p;
  throw new UnknownRegionError(id, PRESET_IDS);
}

/** Throws {@link RegionalOptionsError} unless `point` holds finite, in-range coordinates. */
export function validateGeoPoint(point: GeoPoint, what: string): void {
  const { latitude, longitude } = point;
  if (
    typeof latitude !== 'number' ||
    typeof longitude !== 'number' ||
    !(latitude >= -90 && latitude <= 90) ||
    !(longitude >= -180 && longitude <= 180)
  ) {
    throw new RegionalOptionsError(
      `${what}: latitude must be in -90..90 and longitude in -180..180, got ${String(latitude)}, ${String(longitude)}`,
    );
  }
}

/** Great-circle distance between two points in km (haversine formula, spherical Earth). */
export function greatCircleDistanceKm(a: GeoPoint, b: GeoPoint): number {
  const dLat = (b.latitude - a.latitude) * RADIANS;
  const dLon = (b.longitude - a.longitude) * RADIANS;
  const s = Math.sin(dLat / 2);
  const t = Math.sin(dLon / 2);
  const h = s * s + Math.cos(a.latitude * RADIANS) * Math.cos(b.latitude * RADIANS) * t * t;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** `from` as a point: a preset id is looked up ({@link UnknownRegionError} if unknown). */
export function resolveGeoPoint(from: string | GeoPoint): GeoPoint {
  if (typeof from === 'string') return latamRegionPreset(from);
  validateGeoPoint(from, 'origin point');
  return from;
}

/**
 * A new array of `regions` (the presets by default) ordered by great-circle distance from `from`
 * (a preset id or coordinates), nearest first. Equal distances keep their input order.
 */
export function orderByDistance(from: string | GeoPoint): RegionPreset[];
export function orderByDistance<T extends GeoPoint>(from: string | GeoPoint, regions: readonly T[]): T[];
export function orderByDistance(
  from: string | GeoPoint,
  regions: readonly GeoPoint[] = LATAM_REGION_PRESETS,
): GeoPoint[] {
  const origin = resolveGeoPoint(from);
  const keyed = regions.map((region, index) => ({
    region,
    index,
    km: greatCircleDistanceKm(origin, region),
  }));
  keyed.sort((x, y) => x.km - y.km || x.index - y.index);
  return keyed.map((k) => k.region);
}
