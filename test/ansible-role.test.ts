// The Ansible role's documentation stays in step with itself: every variable in defaults/main.yml is documented in
// meta/argument_specs.yml with the same default, both entry points document the same variables, every variable is
// used by the role, every config variable reaches the template, and README "Installing with Ansible" lists exactly
// these variables with these defaults. (The role itself runs for real in test/ansible, npm run test:ansible.)
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { defaultConfig } from '../src/config/config.js';
import { describe, expect, it } from 'vitest';

const ROLE = join(__dirname, '..', 'ansible', 'roles', 'kube_cert_renewer');
const load = (file: string): unknown => yaml.load(readFileSync(join(ROLE, file), 'utf8'));

interface Option { description: string | string[]; type: string; default?: unknown; choices?: unknown[] }
const defaults = load('defaults/main.yml') as Record<string, unknown>;
const specs = (load('meta/argument_specs.yml') as { argument_specs: Record<string, { options: Record<string, Option> }> }).argument_specs;
const options = specs['main']?.options ?? {};

function roleText(): string {
  return ['tasks', 'handlers', 'templates', 'vars'].flatMap((dir) => readdirSync(join(ROLE, dir)).map((f) => readFileSync(join(ROLE, dir, f), 'utf8'))).join('\n');
}

/** README's variable table: name → the default cell's text. */
function readmeVariables(): Map<string, string> {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Installing with Ansible');
  expect(start, 'README has a section "Installing with Ansible"').toBeGreaterThan(0);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
  const rows = section.split('\n').filter((l) => l.startsWith('| `kube_cert_renewer_'));
  return new Map(rows.map((r) => {
    const cells = r.split(' | ');
    return [(cells[0] as string).replace(/^\| `|`$/g, ''), cells[1] as string];
  }));
}

describe('the Ansible role kube_cert_renewer', () => {
  it('documents every default in argument_specs, with the same default, under one prefix', () => {
    expect(Object.keys(options).sort()).toEqual(Object.keys(defaults).sort());
    for (const [name, value] of Object.entries(defaults)) {
      expect(name).toMatch(/^kube_cert_renewer_[a-z0-9_]+$/);
      expect(options[name]?.default, name).toEqual(value);
      expect(String(options[name]?.description ?? '').length, `${name} has a description`).toBeGreaterThan(10);
      if (options[name]?.choices) expect(options[name]?.choices, name).toContain(value);
    }
  });

  it('gives both entry points (install.yml: main, renew.yml: renew) the same variables', () => {
    expect(Object.keys(specs).sort()).toEqual(['main', 'renew']);
    expect(specs['renew']?.options).toEqual(options);
  });

  it('uses every variable, and writes every config variable into config.yaml.j2', () => {
    const text = roleText();
    for (const name of Object.keys(defaults)) expect(text, name).toContain(name);
    const template = readFileSync(join(ROLE, 'templates', 'config.yaml.j2'), 'utf8');
    const config = Object.entries(options).filter(([, o]) => /^Config C\(/.test(String(o.description).trim())).map(([n]) => n);
    // one variable per leaf key of the configuration (lists count as one)
    const leaves = (o: object): number => Object.values(o).reduce<number>((n, v) => n + (v && typeof v === 'object' && !Array.isArray(v) ? leaves(v) : 1), 0);
    expect(config.length).toBe(leaves(defaultConfig()));
    for (const name of config) expect(template, name).toContain(name);
  });

  it('is listed in README "Installing with Ansible" with the same defaults', () => {
    const readme = readmeVariables();
    expect([...readme.keys()].sort()).toEqual(Object.keys(defaults).sort());
    for (const [name, cell] of readme) {
      const value = defaults[name];
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const key of Object.keys(value)) expect(cell, `${name} names ${key}`).toContain(key.replace(/^kube-/, ''));
        continue;
      }
      expect(yaml.load(cell.replace(/^`|`$/g, '')), name).toEqual(value);
    }
  });
});
