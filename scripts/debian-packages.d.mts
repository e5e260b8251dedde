/** See debian-packages.mjs. Returns the packages it installed. */
export function ensureDebianPackages(packages: Record<string, string>, say?: (text: string) => void): string[];
