import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemplateError, renderChart } from './render';

/** The engine follows Go's text/template + Sprig where the chart relies on it. */
function renderOne(template: string, values: Record<string, unknown> = {}, helpers = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'gotemplate-'));
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: t\nversion: 1.2.3\nappVersion: "4.5"\n');
  writeFileSync(join(dir, 'templates', '_helpers.tpl'), helpers);
  writeFileSync(join(dir, 'templates', 'NOTES.txt'), '');
  writeFileSync(join(dir, 'templates', 't.yaml'), template);
  try {
    return renderChart(dir, values, { name: 'rel', namespace: 'ns' }).manifests.get('t.yaml')!.join('\n---\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Go template engine for chart checks', () => {
  it('trims whitespace on the marked side only', () => {
    expect(renderOne('a:\n  {{- " b" }}\nc: {{ "d" -}}\n\n  e')).toBe('a: b\nc: de');
  });

  it('ranges over maps in sorted key order, with key and value variables', () => {
    expect(renderOne('{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}', { m: { b: 2, a: 1 } })).toBe('a=1;b=2;');
  });

  it('ranges over lists with the element as dot, and takes else when empty', () => {
    expect(renderOne('{{ range .Values.l }}[{{ . }}]{{ else }}none{{ end }}', { l: ['x', 'y'] })).toBe('[x][y]');
    expect(renderOne('{{ range .Values.l }}[{{ . }}]{{ else }}none{{ end }}', { l: [] })).toBe('none');
  });

  it('chains else if, and with sets dot', () => {
    const t = '{{ if eq .Values.k "a" }}A{{ else if eq .Values.k "b" }}B{{ else }}C{{ end }}{{ with .Values.w }}:{{ .x }}{{ end }}';
    expect(renderOne(t, { k: 'b', w: { x: 1 } })).toBe('B:1');
    expect(renderOne(t, { k: 'z', w: {} })).toBe('C');
  });

  it('includes defined helpers with their own dot, and pipes into nindent', () => {
    const helpers = '{{- define "t.l" -}}\nname: {{ .n }}\n{{- end -}}';
    expect(renderOne('m:\n  {{- include "t.l" (dict "n" .Release.Name) | nindent 2 }}', {}, helpers)).toBe('m:\n  name: rel');
  });

  it('prints float64 values of a million or more in exponent notation, as Helm does', () => {
    expect(renderOne('{{ .Values.a }} {{ .Values.b }} {{ .Values.b | int }} {{ mul .Values.c 1000 }}', { a: 999999, b: 1048576, c: 25 })).toBe('999999 1.048576e+06 1048576 25000');
  });

  it('fails like Go on a float compared with an int, and on a field of nil', () => {
    expect(() => renderOne('{{ if gt .Values.p 0 }}x{{ end }}', { p: 3 })).toThrow('incompatible types for comparison');
    expect(renderOne('{{ if gt (int .Values.p) 0 }}x{{ end }}', { p: 3 })).toBe('x');
    expect(() => renderOne('{{ .Values.missing.key }}')).toThrow('nil pointer evaluating interface {}.key');
  });

  it('runs fail and required with their message', () => {
    expect(() => renderOne('{{ fail "stop here" }}')).toThrow(TemplateError);
    expect(() => renderOne('{{ required "need x" .Values.x }}')).toThrow('need x');
  });

  it('quotes, defaults, truncates and formats like Sprig', () => {
    const t = '{{ quote 3 }} {{ default "d" .Values.e }} {{ "abcdef" | trunc 3 }} {{ printf "%s-%d" "a" (int64 "7") }} {{ ternary "y" "n" true }}';
    expect(renderOne(t, { e: '' })).toBe('"3" d abc a-7 y');
  });

  it('digs into nested maps with a default, and answers lookup with an empty map as helm template does', () => {
    expect(renderOne('{{ dig "a" "b" "none" .Values }}|{{ dig "a" "x" "none" .Values }}|{{ dig "data" "k" "none" (lookup "v1" "Secret" "ns" "s") }}', { a: { b: 'found' } })).toBe('found|none|none');
    expect(renderOne('{{ "aGk=" | b64dec }} {{ randAlphaNum 12 | len }}')).toBe('hi 12');
  });

  it('reads chart files with .Files.Get, unrendered, and "" for a missing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gotemplate-'));
    mkdirSync(join(dir, 'templates'));
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: t\nversion: 1.2.3\n');
    writeFileSync(join(dir, 'files', 'f.txt'), 'raw {{ $labels.x }}');
    writeFileSync(join(dir, 'templates', 'NOTES.txt'), '');
    writeFileSync(join(dir, 'templates', 't.yaml'), 'a: {{ .Files.Get "files/f.txt" | quote }}\nb: {{ .Files.Get "files/none" | quote }}');
    try {
      expect(renderChart(dir, {}, { name: 'rel', namespace: 'ns' }).manifests.get('t.yaml')).toEqual(['a: "raw {{ $labels.x }}"\nb: ""']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('declares variables in the block that sets them', () => {
    expect(renderOne('{{ $x := "a" }}{{ if true }}{{ $x = "b" }}{{ $y := "c" }}{{ $y }}{{ end }}{{ $x }}')).toBe('cb');
  });
});
