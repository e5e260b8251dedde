/**
 * Parse a kubeconfig: js-yaml on the whole text. (`npm run bench` measures a home-made alternative side by side:
 * lifting the long base64 values out before js-yaml sees them, scripts/bench-candidates/. It gained less than the
 * 15% on `status` a home-made piece must show, so it is not used.)
 */
import { loadYaml } from '../yaml.js';

export function parseKubeconfigText(text: string, file: string): unknown {
  return loadYaml(text, file);
}
