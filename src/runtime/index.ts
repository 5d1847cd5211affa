/**
 * The `hush/runtime` entry: starting tfjs (tfjs.ts) and running networks on images of
 * any size in tiles (tiled.ts, runtime-agnostic; tfjs-tile-runner.ts drives it with
 * tfjs). Importing it loads no runtime: tfjs is imported on first use.
 */
export * from './tfjs.js';
export {
  inferTiled,
  planTileGrid,
  DEFAULT_TILE_SIZE,
  DEFAULT_TILE_OVERLAP,
  FILL_RADIUS,
  type InferTiledOptions,
  type InferTiledProgress,
  type PlanTileGridOptions,
  type TileAxis,
  type TileGrid,
  type TileRunExtra,
  type TileRunner,
  type TileSpan,
} from './tiled.js';
export { tfjsTileRunner, type TfjsTileRunnerOptions } from './tfjs-tile-runner.js';
