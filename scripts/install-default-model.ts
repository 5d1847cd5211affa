/**
 * Installs a trained run's best model as the built-in dncnn-grey-s25: the tfjs model
 * (model.json + weights.bin) and its ONNX export, into models/dncnn-grey-s25/.
 *
 *   node dist/scripts/install-default-model.js [runs/dncnn-s25/best]
 */
import { join } from 'node:path';
import { loadModel, saveModel } from '../src/models/io.js';
import { saveOnnx } from '../src/onnx/export.js';

const from = process.argv[2] ?? 'runs/dncnn-s25/best';
const dir = join('models', 'dncnn-grey-s25');
const model = await loadModel(from);
await saveModel(model, dir, { ifExists: 'overwrite' });
await saveOnnx(model, join(dir, 'dncnn-grey-s25.onnx'), { ifExists: 'overwrite' });
console.log(`installed ${from} as ${dir}: ${model.model.countParams()} parameters, trained ${JSON.stringify(model.metadata.training)}, validation ${JSON.stringify(model.metadata.validation)}`);
model.dispose();
