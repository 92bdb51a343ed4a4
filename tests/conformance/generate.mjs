// The document generator of referee.mjs: seeded, built from schema.graphql, it makes valid
// executable documents and mutates them into invalid ones, one mutation per rule of section 5 of
// the specification (graphql-js's `specifiedRules`), plus syntax errors and type-system
// definitions. Whether a document is valid is never decided here: graphql-js decides (see
// referee.mjs); the mutations only aim at a rule, and a mutation that happens to keep the
// document valid is as useful as any other document.
//
// Documents stay well inside the server's limits (depth, fields, aliases, root fields,
// directives per selection; see `LIMITS`) so that a limit never decides an answer.

import {
  getNamedType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
} from 'graphql';

// Far below the server's defaults (--max-depth 15, --max-complexity 5000, --max-aliases 30,
// --max-root-fields 20, --max-directives 5).
export const LIMITS = { depth: 5, fields: 36, aliases: 8, directives: 2 };

// Names chosen to collide with the server's own words: the persisted-query protocol, the
// request and response members, our error codes, keywords, introspection, the root types.
export const OUR_WORDS = [
  'PersistedQuery', 'persistedQuery', 'PersistedQueryNotFound', 'PERSISTED_QUERY_NOT_FOUND',
  'sha256Hash', 'version', 'query', 'mutation', 'subscription', 'fragment', 'on', 'extensions',
  'code', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'METHOD_NOT_ALLOWED',
  'BAD_USER_INPUT', 'UNAUTHENTICATED', 'errors', 'data', 'message', 'locations', 'path',
  'operationName', 'variables', 'Query', 'Mutation', 'Subscription', '__schema', '__type',
  '__typename', '__Type', 'id', 'node', 'Node', 'type', 'input', 'schema', 'true', 'false',
  'null', 'skip', 'include', 'specifiedBy', 'deprecated', 'oneOf', 'directive', 'scalar',
  'extend', 'interface', 'union', 'enum', 'implements', 'repeatable', 'subscribe', 'next',
  'complete', 'connection_init', 'ping', 'Int', 'String', 'ID', 'City', 'hasNext', 'incremental',
];

export function rng(seed) {
  // mulberry32
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
    shuffle(arr) {
      for (let i = arr.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [arr[i], arr[j]] = [arr[j], arr[i]];
      }
      return arr;
    },
  };
  return r;
}

// ---------------------------------------------------------------------------------------------
// The document model. Printed by `print`; values are trees so that mutations can reach into
// input objects and lists.
//
//   doc  = { defs: [op | frag | raw], vars: Map(name → varDef), opName, tag, rule }
//   op   = { kind: 'op', type, name, varNames: [..], extraVars: [varDef], dirs, sel }
//   frag = { kind: 'frag', name, on, dirs, sel }
//   raw  = { kind: 'raw', text }
//   sel  = field { kind: 'field', alias, name, args: [{ name, v }], dirs, sel?, ptype }
//        | inline { kind: 'inline', on, dirs, sel, ptype } | spread { kind: 'spread', name, dirs, ptype }
//   dir  = { name, args: [{ name, v }] }
//   v    = { k: 'raw', text, t } | { k: 'var', name, t } | { k: 'list', items, t } | { k: 'obj', fields: [{ name, v }], t }
//   varDef = { name, type: string, def: v | null, value, supply, dirs }
// ---------------------------------------------------------------------------------------------

const TYPE_SYSTEM = [
  'type PersistedQuery { sha256Hash: String version: Int }',
  'extend type Query { persistedQuery: String }',
  'schema { query: Query }',
  'scalar Upload',
  'directive @persistedQuery(sha256Hash: String) on QUERY',
  'input Extensions { persistedQuery: String }',
  'enum Code { GRAPHQL_VALIDATION_FAILED GRAPHQL_PARSE_FAILED }',
  'union Errors = City | Coverage',
  'interface Data { errors: [String] }',
  'extend schema { subscription: Subscription }',
  '"""our words""" type extensions { code: String }',
  'extend scalar DateTime @specifiedBy(url: "https://example.com")',
  'extend enum BranchType { GRAPHQL_VALIDATION_FAILED }',
  'extend interface Node { code: ID }',
  'extend input CityFilter { query: String }',
  'type Query { errors: [String] }',
];

const SYNTAX = [
  (t) => t.replace(/\}(?=[^}]*$)/, ''), // the last brace missing
  (t) => t + ' }',
  (t) => `${t} {`,
  (t) => t.slice(0, Math.max(1, Math.floor(t.length / 2))),
  (t) => t.replace('{', '{ ('),
  (t) => t.replace('{', '{ "unterminated '),
  (t) => t.replace('{', '{ """unterminated block '),
  (t) => t.replace('{', '{ \u0007 '),
  (t) => t.replace('{', '{ 1abc '),
  (t) => t.replace('{', '{ ... '),
  (t) => t.replace('{', '{ a: '),
  (t) => t.replace('{', '{ @skip(if: true) '),
  (t) => t.replace(/\{/, '{ f(a: $) '),
  (t) => t.replace(/\{/, '{ f(a: 0x1F) '),
  (t) => t.replace(/\{/, '{ f(a: 00) '),
  (t) => t.replace(/\{/, '{ f(a: 1.) '),
  (t) => t.replace(/\{/, '{ f(a: "\\x") '),
  (t) => t.replace(/\{/, '{ f(a: "\\u12") '),
  (t) => t.replace(/\{/, '{ f(a: -) '),
  (t) => t.replace(/\{/, '{ f() '),
  (t) => `query Q() ${t}`,
  (t) => `query Q($a: Int = $b) ${t}`,
  (t) => `fragment on on City { id } ${t}`,
  (t) => `fragment F on City ${t}`,
  (t) => `${t} fragment F on City`,
  (t) => `${t} query`,
  (t) => `${t} {}`,
  (t) => `{ } ${t}`,
  (t) => `${t} $`,
  (t) => `${t} & `,
  (t) => t.replace(/\{/, '{ ...on '),
  (t) => t.replace(/\{/, '{ city(code: "1" { id } '),
  (t) => t.replace(/\{/, '{ periods @ '),
  (t) => `# ${t.replace(/\n/g, ' ')}`,
  (t) => `${t} PersistedQuery`,
  (t) => `${t} "${'persistedQuery'}"`,
  (t) => t.replace(/\{/, '{ periods: periods: periods '),
  (t) => `${t}\u0000`,
  (t) => t.replace(/\{/, '{ \u00e9t\u00e9 '),
  (t) => `extensions ${t}`,
  (t) => `{"query": ${JSON.stringify(t)}}`,
  (t) => t.replace(/ on /, ' on on '),
];

// Changes to the text outside string literals that keep a document what it was: the
// specification's insignificant commas, white space, line terminators and comments, and its
// tokens `$`, `@` and `...` standing apart from the name after them.
const TWEAKS = [
  (t) => t.replace(/\$(?=[A-Za-z_])/g, '$$ '),
  (t) => t.replace(/@(?=[A-Za-z_])/g, '@ '),
  (t) => t.replace(/ /g, ','),
  (t) => t.replace(/ /g, ' ,, '),
  (t) => t.replace(/\n/g, '\r\n'),
  (t) => t.replace(/\n/g, '\r'),
  (t) => t.replace(/ /g, '\t'),
  (t) => t.replace(/\{/g, '{ # { "PersistedQuery" } \n'),
  (t) => t.replace(/\}/g, '\n#}\n}'),
  (t) => t.replace(/\(/g, '( ,'),
  (t) => t.replace(/:/g, ' : '),
  (t) => t.replace(/\.\.\. ?/g, '...\n'),
];

// Applies `f` to the parts of `text` outside string literals (block strings included).
export function outsideStrings(text, f) {
  const parts = [];
  let i = 0;
  let start = 0;
  while (i < text.length) {
    if (text.startsWith('"""', i)) {
      parts.push(f(text.slice(start, i)));
      let j = i + 3;
      while (j < text.length && !(text.startsWith('"""', j) && text[j - 1] !== '\\')) j++;
      parts.push(text.slice(i, j + 3));
      i = start = j + 3;
    } else if (text[i] === '"') {
      parts.push(f(text.slice(start, i)));
      let j = i + 1;
      while (j < text.length && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      parts.push(text.slice(i, j + 1));
      i = start = j + 1;
    } else if (text[i] === '#') {
      // A comment runs to the end of its line: left alone.
      parts.push(f(text.slice(start, i)));
      let j = i;
      while (j < text.length && text[j] !== '\n' && text[j] !== '\r') j++;
      parts.push(text.slice(i, j));
      i = start = j;
    } else {
      i++;
    }
  }
  parts.push(f(text.slice(start)));
  return parts.join('');
}

export class Generator {
  constructor(schema, seed) {
    this.schema = schema;
    this.r = rng(seed);
    this.query = schema.getQueryType();
    this.mutation = schema.getMutationType();
    this.subscription = schema.getSubscriptionType();
    this.composites = Object.values(schema.getTypeMap()).filter(
      (t) => !t.name.startsWith('__') && isCompositeType(t),
    );
    this.objects = this.composites.filter((t) => isObjectType(t));
    this.inputObjects = Object.values(schema.getTypeMap()).filter(
      (t) => !t.name.startsWith('__') && isInputObjectType(t),
    );
    this.mutations = buildMutations();
  }

  // A fresh name: one of our words or an ordinary one.
  word(prefix = 'a') {
    const r = this.r;
    return r.chance(0.5) ? r.pick(OUR_WORDS) : `${prefix}${r.int(100)}`;
  }

  // ----- values ---------------------------------------------------------------------------

  intFor(name) {
    const r = this.r;
    switch (name) {
      case 'first':
        return 1 + r.int(10);
      case 'period':
      case 'sinceYear':
        return r.pick([2023, 2022, 2020, 2000]);
      case 'expectedVersion':
        return r.pick([0, 1]);
      case 'total':
      case 'branchCount':
      case 'eligibleCount':
      case 'newBranches':
        return r.pick([0, 1, 927, 10]);
      default:
        return r.pick([0, 1, 7, 2147483647, -2147483648, 42]);
    }
  }

  // A JavaScript value (for `variables`) of input type `t`, right for the argument `name`.
  jsValue(t, name, depth = 0) {
    const r = this.r;
    if (isNonNullType(t)) return this.jsValue(t.ofType, name, depth, true);
    if (arguments[3] !== true && r.chance(0.1)) return null;
    if (isListType(t)) {
      if (r.chance(0.25)) return this.jsValue(t.ofType, name, depth + 1); // coerced to a list
      const n = 1 + r.int(2);
      return Array.from({ length: n }, () => this.jsValue(t.ofType, name, depth + 1));
    }
    if (isInputObjectType(t)) {
      const out = {};
      for (const f of Object.values(t.getFields())) {
        const required = isNonNullType(f.type) && f.defaultValue === undefined;
        if (required || r.chance(0.35)) out[f.name] = this.jsValue(f.type, f.name, depth + 1);
      }
      return out;
    }
    if (isEnumType(t)) return r.pick(t.getValues()).name;
    switch (t.name) {
      case 'Int':
        return this.intFor(name);
      case 'Float':
        return r.pick([0, 0.5, 1, 0.25]);
      case 'String':
        return r.pick(['x', '', 'PersistedQuery', 'été', '{ __typename }', 'quote"d', '科协']);
      case 'ID':
        return r.pick(['410800', 'KECHUANG_PILOT', 'Q2l0eToxMjM=', 410800]);
      case 'Boolean':
        return r.chance(0.5);
      default:
        return '2024-01-01T00:00:00Z';
    }
  }

  // The literal text of a JavaScript value (what `jsValue` made) for type `t`.
  static literal(value, t) {
    if (value === null) return 'null';
    if (isNonNullType(t)) return Generator.literal(value, t.ofType);
    if (isListType(t)) {
      if (!Array.isArray(value)) return Generator.literal(value, t.ofType);
      return `[${value.map((v) => Generator.literal(v, t.ofType)).join(', ')}]`;
    }
    if (isInputObjectType(t)) {
      const fields = t.getFields();
      return `{${Object.entries(value)
        .map(([k, v]) => `${k}: ${Generator.literal(v, fields[k].type)}`)
        .join(', ')}}`;
    }
    if (isEnumType(t)) return value;
    if (typeof value === 'string') return JSON.stringify(value);
    return String(value);
  }

  // A value tree of type `t` for the argument `name`; `ctx` (when given) may make variables.
  value(t, name, ctx, depth = 0) {
    const r = this.r;
    if (ctx && r.chance(depth === 0 ? 0.22 : 0.1)) return this.useVar(ctx, t, name);
    if (!isNonNullType(t) && r.chance(0.08)) return { k: 'raw', text: 'null', t };
    const n = isNonNullType(t) ? t.ofType : t;
    if (isListType(n)) {
      // One item for a list (input coercion); a literal: a variable there would have to be a list.
      if (r.chance(0.25)) return { ...this.value(n.ofType, name, null, depth + 1), t };
      const items = Array.from({ length: 1 + r.int(2) }, () => this.value(n.ofType, name, ctx, depth + 1));
      return { k: 'list', items, t };
    }
    if (isInputObjectType(n)) {
      const fields = [];
      for (const f of Object.values(n.getFields())) {
        const required = isNonNullType(f.type) && f.defaultValue === undefined;
        if (required || r.chance(0.35)) fields.push({ name: f.name, v: this.value(f.type, f.name, ctx, depth + 1) });
      }
      return { k: 'obj', fields: r.shuffle(fields), t };
    }
    const v = this.jsValue(n, name, depth, true);
    let text = Generator.literal(v, n);
    if (n.name === 'String' && r.chance(0.15)) text = r.pick(['"""block "quoted" string"""', '"\\u00e9t\\u00e9"', '"\\/slash\\n"', '""""""']);
    if (n.name === 'Float' && r.chance(0.3)) text = r.pick(['1', '0', '1e-1', '2.5E-1', '-0.0']);
    if (n.name === 'ID' && r.chance(0.2)) text = r.pick(['410800', '"410800"', '0']);
    return { k: 'raw', text, t };
  }

  // A variable for a position of type `t`: reuses one of the same type or defines one.
  useVar(ctx, t, name) {
    const r = this.r;
    const doc = ctx.doc;
    const typeText = String(t);
    const same = [...doc.vars.values()].filter((d) => d.type === typeText && !d.loose);
    let def;
    if (same.length && r.chance(0.4)) {
      def = r.pick(same);
    } else {
      let vname = r.chance(0.4) ? r.pick(OUR_WORDS) : `${name}${r.int(10)}`;
      vname = vname.replace(/^[^A-Za-z_]+/, 'v');
      while (doc.vars.has(vname)) vname = `${vname}${r.int(10)}`;
      def = { name: vname, type: typeText, def: null, value: undefined, supply: true, dirs: [] };
      const named = isNonNullType(t) ? t.ofType : t;
      // A stricter variable in a looser position is allowed; so is a nullable variable with a
      // default in a non-null position (graphql-js 16, and the spec's "allowed if a default").
      if (!isNonNullType(t) && r.chance(0.15)) def.type = `${typeText}!`;
      if (isNonNullType(t) && r.chance(0.12)) {
        def.type = String(named);
        def.loose = true;
        def.def = this.value(named, name, null, 1);
        if (def.def.text === 'null') def.def = { k: 'raw', text: Generator.literal(this.jsValue(named, name, 1, true), named), t: named };
      } else if (r.chance(0.15)) {
        def.def = this.value(t, name, null, 1);
      }
      // Values: a required variable without default always; others mostly.
      const required = def.type.endsWith('!') && !def.def;
      def.supply = required || r.chance(0.75);
      if (def.supply) {
        def.value = this.jsValue(def.loose ? named : t, name, 0, def.loose || undefined);
        if (def.type.endsWith('!') && def.value === null) def.value = this.jsValue(named, name, 0, true);
      }
      doc.vars.set(vname, def);
    }
    for (const scope of ctx.scopes) scope.add(def.name);
    return { k: 'var', name: def.name, t };
  }

  // ----- selections -----------------------------------------------------------------------

  dirs(ctx) {
    const r = this.r;
    const out = [];
    if (r.chance(0.12)) {
      const names = r.chance(0.2) ? ['skip', 'include'] : [r.pick(['skip', 'include'])];
      for (const name of names) {
        const t = this.schema.getDirective(name).args[0].type;
        const v = r.chance(0.3) ? this.useVar(ctx, t, 'if') : { k: 'raw', text: r.pick(['true', 'false']), t };
        out.push({ name, args: [{ name: 'if', v }] });
      }
    }
    return out;
  }

  // A response name not yet used at this level.
  freshName(names, base) {
    let name = base;
    let n = 0;
    while (names.has(name)) name = n++ < 3 ? this.word('r') : `${base}${this.r.int(1000)}`;
    return name;
  }

  field(type, depth, ctx, names, pickField) {
    const r = this.r;
    let fields = Object.values(type.getFields());
    if (depth >= LIMITS.depth || ctx.fields >= LIMITS.fields - 4) fields = fields.filter((f) => isLeafType(getNamedType(f.type)));
    const f = pickField ?? (fields.length ? r.pick(fields) : null);
    if (!f) return this.typename(names, ctx, type);
    const args = [];
    for (const a of f.args) {
      const required = isNonNullType(a.type) && a.defaultValue === undefined;
      if (required || r.chance(0.3)) args.push({ name: a.name, v: this.value(a.type, a.name, ctx) });
    }
    r.shuffle(args);
    let alias = null;
    if ((ctx.aliases < LIMITS.aliases && r.chance(0.12)) || names.has(f.name)) {
      if (ctx.aliases >= LIMITS.aliases) return this.typename(names, ctx, type);
      alias = this.freshName(names, this.word('r'));
      ctx.aliases++;
    }
    names.add(alias ?? f.name);
    ctx.fields++;
    const node = { kind: 'field', alias, name: f.name, args, dirs: this.dirs(ctx), ptype: type.name };
    const named = getNamedType(f.type);
    if (isCompositeType(named)) node.sel = this.selSet(named, depth + 1, ctx);
    return node;
  }

  typename(names, ctx, type) {
    ctx.fields++;
    let alias = null;
    if (names.has('__typename')) {
      alias = this.freshName(names, `t${this.r.int(100)}`);
      ctx.aliases++;
    }
    names.add(alias ?? '__typename');
    return { kind: 'field', alias, name: '__typename', args: [], dirs: [], ptype: type.name };
  }

  // Types a fragment inside a selection of `type` may be on (all valid spreads).
  conditions(type) {
    if (isObjectType(type)) return [type, ...type.getInterfaces()];
    return [type, ...this.schema.getPossibleTypes(type)];
  }

  selSet(type, depth, ctx, names = new Set(), count = null) {
    const r = this.r;
    const out = [];
    const n = count ?? 1 + r.int(depth <= 2 ? 3 : 2);
    for (let i = 0; i < n && ctx.fields < LIMITS.fields; i++) {
      const roll = r.next();
      if (roll < 0.08) {
        out.push(this.typename(names, ctx, type));
      } else if (roll < 0.18 && depth < LIMITS.depth) {
        const on = r.chance(0.25) ? null : r.pick(this.conditions(type));
        // An inline fragment's fields merge with the level's: same names set.
        const inner = this.selSet(on ?? type, depth + 1, ctx, names, 1 + r.int(2));
        out.push({ kind: 'inline', on: on?.name ?? null, dirs: this.dirs(ctx), sel: inner, ptype: type.name });
      } else if (roll < 0.3 && depth < LIMITS.depth) {
        const spread = this.spread(type, depth, ctx, names);
        if (spread) out.push(spread);
      } else {
        out.push(this.field(type, depth, ctx, names));
      }
    }
    if (out.length === 0) out.push(this.typename(names, ctx, type));
    return out;
  }

  spread(type, depth, ctx, names) {
    const r = this.r;
    const doc = ctx.doc;
    const fits = new Set(this.conditions(type).map((t) => t.name));
    const reuse = doc.defs.filter(
      (d) =>
        d.kind === 'frag' &&
        fits.has(d.on) &&
        !ctx.open.has(d.name) &&
        d.depth + 1 >= depth &&
        ctx.fields + d.fields <= LIMITS.fields &&
        ctx.aliases + d.aliases <= LIMITS.aliases &&
        [...d.names].every((n) => !names.has(n)),
    );
    let frag;
    if (reuse.length && r.chance(0.5)) {
      frag = r.pick(reuse);
      ctx.fields += frag.fields;
      ctx.aliases += frag.aliases;
      for (const scope of ctx.scopes) for (const v of frag.used) scope.add(v);
    } else {
      const on = r.pick([...fits]);
      let name = r.chance(0.4) ? r.pick(OUR_WORDS) : `F${r.int(100)}`;
      while (name === 'on' || doc.fragNames.has(name)) name = `F${r.int(1000)}`;
      doc.fragNames.add(name);
      frag = { kind: 'frag', name, on, dirs: [], used: new Set(), depth };
      const before = { fields: ctx.fields, aliases: ctx.aliases };
      ctx.open.add(name);
      ctx.scopes.push(frag.used);
      // Its fields merge with this level's: it avoids the names taken here.
      const seen = new Set(names);
      frag.sel = this.selSet(this.schema.getType(on), depth + 1, ctx, seen);
      frag.names = new Set([...seen].filter((n) => !names.has(n)));
      ctx.scopes.pop();
      ctx.open.delete(name);
      frag.fields = ctx.fields - before.fields;
      frag.aliases = ctx.aliases - before.aliases;
      for (const scope of ctx.scopes) for (const v of frag.used) scope.add(v);
      doc.defs.push(frag);
    }
    for (const n of frag.names) names.add(n);
    return { kind: 'spread', name: frag.name, dirs: this.dirs(ctx), ptype: type.name };
  }

  // ----- operations -----------------------------------------------------------------------

  operation(doc, type, name) {
    const r = this.r;
    const op = { kind: 'op', type, name, varNames: [], extraVars: [], dirs: [], sel: [], used: new Set() };
    const ctx = { doc, fields: 0, aliases: 0, open: new Set(), scopes: [op.used] };
    const root = type === 'query' ? this.query : type === 'mutation' ? this.mutation : this.subscription;
    if (type === 'subscription') {
      // Exactly one root field, perhaps inside an inline fragment.
      const names = new Set();
      const f = this.field(root, 1, ctx, names, r.pick(Object.values(root.getFields())));
      op.sel = r.chance(0.15) ? [{ kind: 'inline', on: r.chance(0.5) ? 'Subscription' : null, dirs: [], sel: [f], ptype: root.name }] : [f];
    } else if (type === 'mutation') {
      const names = new Set();
      const fields = Object.values(root.getFields());
      op.sel = Array.from({ length: 1 + (r.chance(0.2) ? 1 : 0) }, () => this.field(root, 1, ctx, names, r.pick(fields)));
      if (r.chance(0.1)) op.sel.push(this.typename(names, ctx, root));
    } else {
      op.sel = this.selSet(root, 1, ctx);
    }
    op.ctx = ctx;
    return op;
  }

  // A valid document (as far as the generator knows; graphql-js decides).
  validDoc() {
    const r = this.r;
    const doc = { defs: [], vars: new Map(), fragNames: new Set(), opName: null, tag: 'valid', rule: null, style: this.style() };
    const roll = r.next();
    const type = roll < 0.6 ? 'query' : roll < 0.8 ? 'mutation' : 'subscription';
    const named = r.chance(0.55);
    const op = this.operation(doc, type, named ? this.word('Op') : null);
    doc.defs.unshift(op);
    if (r.chance(0.08)) {
      // Two named operations; the request names one.
      if (!op.name) op.name = this.word('Op');
      let other = this.word('Op');
      while (other === op.name) other = `${other}2`;
      const t2 = r.pick(['query', 'mutation', 'subscription']);
      const op2 = this.operation(doc, t2, other);
      doc.defs.splice(r.int(doc.defs.length + 1), 0, op2);
      doc.opName = r.chance(0.5) ? op.name : other;
    } else if (op.name && r.chance(0.5)) {
      doc.opName = op.name;
    }
    r.shuffle(doc.defs);
    return doc;
  }

  style() {
    const r = this.r;
    return {
      sep: r.pick([' ', ' ', ', ', ',', '\n', '\n  ']),
      argSep: r.pick([', ', ' ', ',', ',\n']),
      colon: r.pick([': ', ': ', ':', ' : ']),
      spread: r.pick(['...', '... ']),
      comments: r.chance(0.08),
      bom: r.chance(0.02),
      short: r.chance(0.7),
      trailing: r.pick(['', '', '\n', ' \n\t']),
    };
  }

  // The document the request runs: the named operation, else the only one.
  selected(doc) {
    const ops = doc.defs.filter((d) => d.kind === 'op');
    if (doc.opName) return ops.find((o) => o.name === doc.opName) ?? ops[0];
    return ops[0];
  }

  // One document: valid (about 40 %) or mutated into an invalid one.
  next() {
    const r = this.r;
    const doc = this.validDoc();
    let text = null;
    if (r.chance(0.07)) {
      doc.tag = 'syntax-error';
      doc.rule = 'syntax';
    } else if (r.chance(0.6)) {
      const order = r.shuffle([...this.mutations]);
      // Weighted towards rarely applicable mutations by trying several.
      for (const m of order) {
        if (m.fn(doc, this)) {
          doc.tag = m.tag;
          doc.rule = m.rule;
          break;
        }
      }
    } else if (r.chance(0.35)) {
      const m = r.pick(this.mutations.filter((m) => m.rule === 'valid'));
      if (m.fn(doc, this)) doc.tag = m.tag;
    }
    text = print(doc);
    if (doc.rule === 'syntax') text = r.pick(SYNTAX)(text);
    else if (r.chance(0.12)) {
      const tweak = r.pick(TWEAKS);
      text = outsideStrings(text, tweak);
      doc.tag += `+tweak${TWEAKS.indexOf(tweak)}`;
    }
    return finish(doc, text, this);
  }
}

function finish(doc, text, g) {
  const ops = doc.defs.filter((d) => d.kind === 'op');
  const sel = g.selected(doc);
  const types = new Set(ops.map((o) => o.type));
  // Without an operation name the server cannot tell the operation: every type's paths must
  // be safe (the generator keeps such documents to one type).
  const opType = sel ? sel.type : 'query';
  const variables = {};
  const opVars = sel ? opVarDefs(sel, doc) : [];
  for (const v of opVars) if (v.supply && v.value !== undefined) variables[v.name] = v.value;
  return {
    text,
    operationName: doc.opName,
    variables: Object.keys(variables).length ? variables : null,
    opType,
    types: [...types],
    tag: doc.tag,
    rule: doc.rule,
  };
}

function opVarDefs(op, doc) {
  const defs = [];
  for (const name of op.varNames) if (doc.vars.has(name)) defs.push(doc.vars.get(name));
  return [...defs, ...op.extraVars];
}

// ----- printing ------------------------------------------------------------------------------

export function print(doc) {
  const st = doc.style;
  // Each operation defines the variables its selections (fragments included) use.
  for (const op of doc.defs.filter((d) => d.kind === 'op')) {
    if (!op.fixedVars) op.varNames = [...op.used].filter((n) => doc.vars.has(n));
  }
  const sepSel = st.comments ? '\n# PersistedQuery { __typename }\n' : st.sep;
  const value = (v) => {
    switch (v.k) {
      case 'raw':
        return v.text;
      case 'var':
        return `$${v.name}`;
      case 'list':
        return `[${v.items.map(value).join(st.argSep)}]`;
      case 'obj':
        return `{${v.fields.map((f) => `${f.name}${st.colon}${value(f.v)}`).join(st.argSep)}}`;
      default:
        throw new Error(`value kind ${v.k}`);
    }
  };
  const args = (list) => (list.length ? `(${list.map((a) => `${a.name}${st.colon}${value(a.v)}`).join(st.argSep)})` : '');
  const dirs = (list) => list.map((d) => ` @${d.name}${args(d.args)}`).join('');
  const sel = (list) => `{${st.sep === '\n' || st.sep === '\n  ' ? '\n' : ' '}${list.map(selection).join(sepSel)} }`;
  const selection = (s) => {
    switch (s.kind) {
      case 'field':
        return `${s.alias ? `${s.alias}${st.colon}` : ''}${s.name}${args(s.args)}${dirs(s.dirs)}${s.sel ? ` ${sel(s.sel)}` : ''}${s.tail ?? ''}`;
      case 'inline':
        return `${st.spread}${s.on ? `${st.spread.endsWith(' ') ? '' : ' '}on ${s.on}` : ''}${dirs(s.dirs)} ${sel(s.sel)}`;
      case 'spread':
        return `${st.spread}${s.name}${dirs(s.dirs)}`;
      default:
        throw new Error(`selection kind ${s.kind}`);
    }
  };
  const varDef = (d) => `$${d.name}${st.colon}${d.type}${d.def ? ` = ${value(d.def)}` : ''}${dirs(d.dirs ?? [])}`;
  const def = (d) => {
    switch (d.kind) {
      case 'op': {
        const vars = opVarDefs(d, doc);
        if (d.type === 'query' && !d.name && !vars.length && !d.dirs.length && st.short && !d.long) return sel(d.sel);
        return `${d.type}${d.name ? ` ${d.name}` : ''}${vars.length ? `(${vars.map(varDef).join(st.argSep)})` : ''}${dirs(d.dirs)} ${sel(d.sel)}`;
      }
      case 'frag':
        return `fragment ${d.name} on ${d.on}${dirs(d.dirs)} ${sel(d.sel)}`;
      case 'raw':
        return d.text;
      default:
        throw new Error(`definition kind ${d.kind}`);
    }
  };
  return `${st.bom ? '\ufeff' : ''}${doc.defs.map(def).join('\n')}${st.trailing}`;
}

// ----- walking the model -----------------------------------------------------------------------

// Every selection list with its parent type: [{ list, type, owner }].
function lists(doc, schema) {
  const out = [];
  const visit = (list, typeName, owner) => {
    out.push({ list, type: schema.getType(typeName), owner });
    for (const s of list) {
      if (s.kind === 'field' && s.sel) {
        const parent = schema.getType(s.ptype);
        const f = parent?.getFields?.()[s.name];
        const t = f ? getNamedType(f.type) : null;
        if (t && isCompositeType(t)) visit(s.sel, t.name, owner);
      } else if (s.kind === 'inline') {
        visit(s.sel, s.on ?? typeName, owner);
      }
    }
  };
  for (const d of doc.defs) {
    if (d.kind === 'op') {
      const root = d.type === 'query' ? 'Query' : d.type === 'mutation' ? 'Mutation' : 'Subscription';
      visit(d.sel, root, d);
    } else if (d.kind === 'frag' && schema.getType(d.on)) {
      visit(d.sel, d.on, d);
    }
  }
  return out;
}

function fields(doc, schema) {
  const out = [];
  for (const l of lists(doc, schema)) {
    l.list.forEach((s, i) => {
      if (s.kind !== 'field') return;
      const def = l.type?.getFields?.()[s.name];
      out.push({ s, list: l.list, i, type: l.type, def, owner: l.owner });
    });
  }
  return out;
}

// Every value node with its expected type: [{ v, replace(newV) }].
function values(doc, schema) {
  const out = [];
  const visit = (v, replace) => {
    out.push({ v, replace });
    if (v.k === 'list') v.items.forEach((item, i) => visit(item, (nv) => (v.items[i] = nv)));
    if (v.k === 'obj') v.fields.forEach((f) => visit(f.v, (nv) => (f.v = nv)));
  };
  for (const { s } of fields(doc, schema)) {
    for (const a of s.args) visit(a.v, (nv) => (a.v = nv));
    for (const d of s.dirs) for (const a of d.args) visit(a.v, (nv) => (a.v = nv));
  }
  return out.filter((x) => x.v.t);
}

function mainOp(doc, g) {
  return g.selected(doc);
}

// Appends `sel` to a random selection list of an object or interface type accepted by `pred`.
function addTo(doc, g, pred, make) {
  const candidates = lists(doc, g.schema).filter((l) => l.type && pred(l.type, l));
  if (!candidates.length) return false;
  const l = g.r.pick(candidates);
  const s = make(l.type, l);
  if (!s) return false;
  l.list.splice(g.r.int(l.list.length + 1), 0, s);
  return true;
}

// The response names a selection list yields, through its inline fragments and spreads.
function responseNames(doc, list, seen = new Set()) {
  const out = new Set();
  for (const s of list) {
    if (s.kind === 'field') out.add(s.alias ?? s.name);
    else if (s.kind === 'inline') for (const n of responseNames(doc, s.sel, seen)) out.add(n);
    else if (s.kind === 'spread' && !seen.has(s.name)) {
      seen.add(s.name);
      const f = doc.defs.find((d) => d.kind === 'frag' && d.name === s.name);
      if (f) for (const n of responseNames(doc, f.sel, seen)) out.add(n);
    }
  }
  return out;
}

// One of `candidates` not yet a response name in `list`, else a fresh one.
function freeAlias(doc, list, candidates, g) {
  const taken = responseNames(doc, list);
  const free = candidates.filter((c) => !taken.has(c));
  if (free.length) return g.r.pick(free);
  let name = `${candidates[0]}${g.r.int(1000)}`;
  while (taken.has(name)) name = `${candidates[0]}${g.r.int(100000)}`;
  return name;
}

const typename = (ptype, alias = null) => ({ kind: 'field', alias, name: '__typename', args: [], dirs: [], ptype });

function wrongLiteral(t, g) {
  const r = g.r;
  if (isNonNullType(t) && r.chance(0.3)) return 'null';
  const n = isNonNullType(t) ? t.ofType : t;
  if (isListType(n)) {
    const item = n.ofType;
    if (isNonNullType(item) && r.chance(0.4)) return r.pick(['[null]', '[null, null]']);
    return `[${wrongLiteral(item, g)}]`;
  }
  if (isInputObjectType(n)) {
    const fs = Object.values(n.getFields());
    const req = fs.filter((f) => isNonNullType(f.type) && f.defaultValue === undefined);
    const opts = ['"x"', '1', '[]', 'ENTERPRISE', '{ persistedQuery: 1 }', '{ extensions: {} }', '{ query: "{ __typename }" }'];
    if (req.length) {
      opts.push('{}');
      const keep = req.slice(1).map((f) => `${f.name}: ${Generator.literal(g.jsValue(f.type, f.name, 1, true), f.type)}`);
      opts.push(`{${keep.join(', ')}}`);
    }
    const f = r.pick(fs);
    opts.push(`{${f.name}: ${wrongLiteral(f.type, g)}}`);
    return r.pick(opts);
  }
  if (isEnumType(n)) {
    const v = r.pick(n.getValues()).name;
    return r.pick([`"${v}"`, v.toLowerCase(), 'UNKNOWN_VALUE', 'GRAPHQL_VALIDATION_FAILED', 'PERSISTED_QUERY_NOT_FOUND', '1', 'true', '{}']);
  }
  switch (n.name) {
    case 'Int':
      return r.pick(['"2023"', '20.5', '2147483648', '-2147483649', '99999999999999999999', 'true', 'ENTERPRISE', '1e3', '{ a: 1 }', '""']);
    case 'Float':
      return r.pick(['"0.5"', 'true', 'ENTERPRISE', '{}', '"NaN"']);
    case 'String':
      return r.pick(['1', 'true', 'ENTERPRISE', '1.5', '{ x: "y" }', 'PersistedQuery']);
    case 'ID':
      return r.pick(['1.5', 'true', 'ENTERPRISE', '{}', 'null_', '[{}]']);
    case 'Boolean':
      return r.pick(['"true"', '1', 'TRUE', '0', 'True', '"false"']);
    default:
      return r.pick(['{}', 'ENTERPRISE']);
  }
}

// ----- the mutations ------------------------------------------------------------------------
// Each returns whether it changed the document. `rule` is the rule it aims at ('valid' for the
// ones meant to keep the document valid while stressing the server's own words and paths).

function buildMutations() {
  const M = [];
  const add = (rule, tag, fn) => M.push({ rule, tag, fn });

  // 5.1.1 Executable definitions.
  add('ExecutableDefinitionsRule', 'type-system-definition', (doc, g) => {
    doc.defs.splice(g.r.int(doc.defs.length + 1), 0, { kind: 'raw', text: g.r.pick(TYPE_SYSTEM) });
    return true;
  });
  add('ExecutableDefinitionsRule', 'only-type-system', (doc, g) => {
    if (!g.r.chance(0.2)) return false;
    doc.defs = [{ kind: 'raw', text: g.r.pick(TYPE_SYSTEM) }];
    doc.opName = null;
    return true;
  });

  // 5.2.1.1 Operation name uniqueness.
  add('UniqueOperationNamesRule', 'duplicate-operation-name', (doc, g) => {
    const op = mainOp(doc, g);
    if (!op.name) op.name = g.word('Op');
    const root = op.type === 'subscription' ? [{ kind: 'field', alias: null, name: 'coverageChanged', args: [], dirs: [], ptype: 'Subscription', sel: [typename('CoverageChange')] }] : [typename(op.type === 'query' ? 'Query' : 'Mutation')];
    doc.defs.push({ kind: 'op', type: op.type, name: op.name, varNames: [], extraVars: [], dirs: [], sel: root, used: new Set(), fixedVars: true });
    doc.opName = op.name;
    return true;
  });

  // 5.2.2.1 Lone anonymous operation.
  add('LoneAnonymousOperationRule', 'anonymous-and-named', (doc, g) => {
    const op = mainOp(doc, g);
    if (op.type === 'subscription') return false;
    const other = { kind: 'op', type: op.type, name: null, varNames: [], extraVars: [], dirs: [], sel: [typename(op.type === 'query' ? 'Query' : 'Mutation')], used: new Set(), fixedVars: true, long: g.r.chance(0.5) };
    if (!op.name) {
      // The anonymous one stays; a named one joins and the request names it.
      other.name = g.word('Op');
      doc.opName = other.name;
      doc.defs.push(other);
      // The server must refuse whichever one the request names.
      if (g.r.chance(0.5)) doc.opName = other.name;
    } else {
      doc.defs.splice(g.r.int(doc.defs.length + 1), 0, other);
      doc.opName = op.name;
    }
    return true;
  });
  add('LoneAnonymousOperationRule', 'two-anonymous', (doc, g) => {
    const op = mainOp(doc, g);
    if (op.type !== 'query' || op.name) return false;
    doc.defs.push({ kind: 'op', type: 'query', name: null, varNames: [], extraVars: [], dirs: [], sel: [typename('Query')], used: new Set(), fixedVars: true });
    doc.opName = null;
    return true;
  });

  // 5.2.3.1 Single root field (subscriptions).
  add('SingleFieldSubscriptionsRule', 'subscription-second-root-field', (doc, g) => {
    const op = mainOp(doc, g);
    if (op.type !== 'subscription') return false;
    const r = g.r;
    const second = r.pick([
      () => typename('Subscription', r.chance(0.5) ? null : r.pick(OUR_WORDS.filter((w) => w !== 'on'))),
      () => ({ kind: 'field', alias: r.pick(['b', 'data', 'errors', 'extensions']), name: r.pick(['coverageChanged', 'pilotDesignationChanged']), args: [], dirs: [], ptype: 'Subscription', sel: [typename('X')] }),
      () => ({ kind: 'field', alias: null, name: '__schema', args: [], dirs: [], ptype: 'Subscription', sel: [{ kind: 'field', alias: null, name: 'queryType', args: [], dirs: [], ptype: '__Schema', sel: [typename('__Type')] }] }),
      () => ({ kind: 'field', alias: null, name: '__type', args: [{ name: 'name', v: { k: 'raw', text: '"City"' } }], dirs: [], ptype: 'Subscription', sel: [typename('__Type')] }),
      () => ({ kind: 'inline', on: null, dirs: [], sel: [typename('Subscription', 'x')], ptype: 'Subscription' }),
    ])();
    // Sometimes skipped or not included: graphql-js 16 collects the root fields with no
    // variables, so a literal @skip(if: true) drops the field and the document is valid.
    if (r.chance(0.35)) second.dirs = [{ name: r.pick(['skip', 'include']), args: [{ name: 'if', v: { k: 'raw', text: r.pick(['true', 'false']) } }] }];
    op.sel.splice(r.int(op.sel.length + 1), 0, second);
    return true;
  });
  add('SingleFieldSubscriptionsRule', 'subscription-fragment-second-field', (doc, g) => {
    const op = mainOp(doc, g);
    if (op.type !== 'subscription') return false;
    const name = g.r.pick(['PersistedQuery', 'SubFields', 'subscription']);
    if (doc.defs.some((d) => d.name === name)) return false;
    doc.defs.push({ kind: 'frag', name, on: 'Subscription', dirs: [], sel: [{ kind: 'field', alias: 'other', name: 'pilotDesignationChanged', args: [], dirs: [], ptype: 'Subscription', sel: [typename('X')] }] });
    op.sel.push({ kind: 'spread', name, dirs: [], ptype: 'Subscription' });
    return true;
  });

  // 5.3.1 Field selections on objects, interfaces and unions.
  add('FieldsOnCorrectTypeRule', 'unknown-field', (doc, g) => {
    const fs = fields(doc, g.schema).filter((f) => f.s.name !== '__typename');
    if (!fs.length) return false;
    const f = g.r.pick(fs);
    f.s.name = g.r.pick([...OUR_WORDS.filter((w) => w !== 'on'), `${f.s.name}s`, f.s.name.toUpperCase(), 'nameEN']);
    return true;
  });
  add('FieldsOnCorrectTypeRule', 'field-of-another-type', (doc, g) => {
    const r = g.r;
    return addTo(doc, g, (t) => !['Query', 'Mutation', 'Subscription'].includes(t.name) || r.chance(0.3), (t) => {
      const others = g.objects.filter((o) => o !== t && !o.name.startsWith('__'));
      const o = r.pick(others);
      const leafs = Object.values(o.getFields()).filter((f) => isLeafType(getNamedType(f.type)) && !f.args.some((a) => isNonNullType(a.type)));
      if (!leafs.length) return null;
      const f = r.pick(leafs);
      return { kind: 'field', alias: null, name: f.name, args: [], dirs: [], ptype: t.name };
    });
  });
  add('FieldsOnCorrectTypeRule', 'introspection-off-root', (doc, g) =>
    addTo(doc, g, (t) => t.name !== 'Query', (t) =>
      g.r.chance(0.5)
        ? { kind: 'field', alias: null, name: '__schema', args: [], dirs: [], ptype: t.name, sel: [{ kind: 'field', alias: null, name: 'queryType', args: [], dirs: [], ptype: '__Schema', sel: [typename('__Type')] }] }
        : { kind: 'field', alias: null, name: '__type', args: [{ name: 'name', v: { k: 'raw', text: '"City"' } }], dirs: [], ptype: t.name, sel: [typename('__Type')] },
    ),
  );
  add('FieldsOnCorrectTypeRule', 'object-field-on-interface', (doc, g) =>
    addTo(doc, g, (t) => isAbstractType(t), (t) => ({ kind: 'field', alias: null, name: g.r.pick(['code', 'name', 'period', 'version']), args: [], dirs: [], ptype: t.name })),
  );

  // 5.3.2 Field selection merging.
  add('OverlappingFieldsCanBeMergedRule', 'same-response-name-different-field', (doc, g) => {
    const fs = fields(doc, g.schema).filter((f) => f.def && isLeafType(getNamedType(f.def.type)));
    if (!fs.length) return false;
    const f = g.r.pick(fs);
    const others = Object.values(f.type.getFields()).filter((o) => o.name !== f.s.name && isLeafType(getNamedType(o.type)) && !o.args.some((a) => isNonNullType(a.type)));
    const name = others.length ? g.r.pick(others).name : '__typename';
    f.list.push({ kind: 'field', alias: f.s.alias ?? f.s.name, name, args: [], dirs: [], ptype: f.type.name });
    return true;
  });
  add('OverlappingFieldsCanBeMergedRule', 'same-field-different-arguments', (doc, g) => {
    const fs = fields(doc, g.schema).filter((f) => f.def && f.def.args.length);
    if (!fs.length) return false;
    const f = g.r.pick(fs);
    const a = g.r.pick(f.def.args);
    const copy = { ...f.s, dirs: [], args: f.s.args.filter((x) => x.name !== a.name) };
    copy.args.push({ name: a.name, v: { k: 'raw', text: Generator.literal(g.jsValue(a.type, a.name, 0, true), a.type), t: a.type } });
    f.list.push(copy);
    return true;
  });
  add('OverlappingFieldsCanBeMergedRule', 'conflicting-subselections', (doc, g) => {
    const fs = fields(doc, g.schema).filter((f) => f.s.sel && f.def);
    if (!fs.length) return false;
    const f = g.r.pick(fs);
    const t = getNamedType(f.def.type);
    const leafs = Object.values(t.getFields?.() ?? {}).filter((o) => isLeafType(getNamedType(o.type)) && !o.args.length);
    if (leafs.length < 2) return false;
    const [a, b] = g.r.shuffle([...leafs]);
    const copy = { kind: 'field', alias: f.s.alias, name: f.s.name, args: f.s.args, dirs: [], ptype: f.s.ptype, sel: [{ kind: 'field', alias: 'x', name: a.name, args: [], dirs: [], ptype: t.name }] };
    f.s.sel.push({ kind: 'field', alias: 'x', name: b.name, args: [], dirs: [], ptype: t.name });
    f.list.push(copy);
    return true;
  });
  add('OverlappingFieldsCanBeMergedRule', 'different-types-on-different-parents', (doc, g) =>
    addTo(doc, g, (t) => isAbstractType(t), (t) => {
      // City.code is ID!, Coverage.period Int!: one response name, two shapes.
      const alias = g.r.pick(['v', 'code', 'data', 'PersistedQuery']);
      return { kind: 'inline', on: null, dirs: [], ptype: t.name, sel: [
        { kind: 'inline', on: 'City', dirs: [], ptype: t.name, sel: [{ kind: 'field', alias, name: 'code', args: [], dirs: [], ptype: 'City' }] },
        { kind: 'inline', on: 'Coverage', dirs: [], ptype: t.name, sel: [{ kind: 'field', alias, name: g.r.pick(['period', 'coverageRate', 'branchCount']), args: [], dirs: [], ptype: 'Coverage' }] },
      ] };
    }),
  );
  add('OverlappingFieldsCanBeMergedRule', 'typename-alias-clash', (doc, g) =>
    addTo(doc, g, () => true, (t) => {
      const fs = Object.values(t.getFields()).filter((f) => isLeafType(getNamedType(f.type)) && !f.args.some((a) => isNonNullType(a.type)));
      if (!fs.length) return null;
      return { kind: 'inline', on: null, dirs: [], ptype: t.name, sel: [typename(t.name), { kind: 'field', alias: '__typename', name: g.r.pick(fs).name, args: [], dirs: [], ptype: t.name }] };
    }),
  );

  // 5.3.3 Leaf field selections.
  add('ScalarLeafsRule', 'selection-on-leaf', (doc, g) => {
    const fs = fields(doc, g.schema).filter((f) => !f.s.sel);
    if (!fs.length) return false;
    g.r.pick(fs).s.sel = [typename('X')];
    return true;
  });
  add('ScalarLeafsRule', 'composite-without-selection', (doc, g) => {
    const fs = fields(doc, g.schema).filter((f) => f.s.sel);
    if (!fs.length) return false;
    delete g.r.pick(fs).s.sel;
    return true;
  });

  // 5.4.1 Argument names; 5.4.2 argument uniqueness; 5.4.2.1 required arguments.
  add('KnownArgumentNamesRule', 'unknown-argument', (doc, g) => {
    const fs = fields(doc, g.schema);
    if (!fs.length) return false;
    const f = g.r.pick(fs);
    const name = g.r.pick(['persistedQuery', 'extensions', 'query', 'operationName', 'variables', 'code', 'id', 'first', 'sha256Hash', 'if']);
    if (f.s.args.some((a) => a.name === name)) return false;
    f.s.args.push({ name, v: { k: 'raw', text: g.r.pick(['1', '"x"', 'true', '{ version: 1 }', 'null']) } });
    return true;
  });
  add('KnownArgumentNamesRule', 'unknown-directive-argument', (doc, g) => {
    const fs = fields(doc, g.schema);
    if (!fs.length) return false;
    const f = g.r.pick(fs);
    f.s.dirs.push({ name: g.r.pick(['skip', 'include']), args: [{ name: 'if', v: { k: 'raw', text: 'false' } }, { name: g.r.pick(['unless', 'query', 'persistedQuery', 'reason']), v: { k: 'raw', text: 'true' } }] });
    return true;
  });
  add('UniqueArgumentNamesRule', 'duplicate-argument', (doc, g) => {
    const fs = fields(doc, g.schema).filter((f) => f.s.args.length);
    if (!fs.length) return false;
    const f = g.r.pick(fs);
    const a = g.r.pick(f.s.args);
    f.s.args.push({ name: a.name, v: a.v });
    return true;
  });
  add('UniqueArgumentNamesRule', 'duplicate-directive-argument', (doc, g) => {
    const fs = fields(doc, g.schema);
    if (!fs.length) return false;
    g.r.pick(fs).s.dirs.push({ name: 'include', args: [{ name: 'if', v: { k: 'raw', text: 'true' } }, { name: 'if', v: { k: 'raw', text: g.r.pick(['true', 'false']) } }] });
    return true;
  });
  add('ProvidedRequiredArgumentsRule', 'missing-required-argument', (doc, g) => {
    const fs = fields(doc, g.schema).filter((f) => f.def && f.def.args.some((a) => isNonNullType(a.type)));
    if (!fs.length) {
      return addTo(doc, g, (t) => t.name === 'Query', () => ({ kind: 'field', alias: null, name: g.r.pick(['city', 'node', 'nodes']), args: [], dirs: [], ptype: 'Query', sel: g.r.chance(0.5) ? [typename('X')] : undefined }));
    }
    const f = g.r.pick(fs);
    const req = f.def.args.filter((a) => isNonNullType(a.type)).map((a) => a.name);
    f.s.args = f.s.args.filter((a) => !req.includes(a.name));
    return true;
  });
  add('ProvidedRequiredArgumentsRule', 'directive-without-if', (doc, g) => {
    const fs = fields(doc, g.schema);
    if (!fs.length) return false;
    g.r.pick(fs).s.dirs.push({ name: g.r.pick(['skip', 'include']), args: [] });
    return true;
  });

  // 5.5.1 Fragments: names unique, spread types exist and are composite, all used.
  add('UniqueFragmentNamesRule', 'duplicate-fragment-name', (doc, g) => {
    const fr = doc.defs.filter((d) => d.kind === 'frag');
    if (fr.length) {
      const f = g.r.pick(fr);
      doc.defs.push({ kind: 'frag', name: f.name, on: f.on, dirs: [], sel: g.r.chance(0.5) ? f.sel : [typename(f.on)] });
      return true;
    }
    const name = g.r.pick(['PersistedQuery', 'query', 'data', 'F']);
    doc.defs.push({ kind: 'frag', name, on: 'Query', dirs: [], sel: [typename('Query')] }, { kind: 'frag', name, on: 'Query', dirs: [], sel: [typename('Query', 'second')] });
    const op = mainOp(doc, g);
    if (op.type !== 'query') return true; // both unused as well
    op.sel.push({ kind: 'spread', name, dirs: [], ptype: 'Query' });
    return true;
  });
  add('KnownTypeNamesRule', 'unknown-type-condition', (doc, g) =>
    addTo(doc, g, () => true, (t) => ({ kind: 'inline', on: g.r.pick(['PersistedQuery', 'Errors', 'Data', 'Citi', 'GRAPHQL_VALIDATION_FAILED', 'extensions', 'Upload']), dirs: [], ptype: t.name, sel: [typename('X')] })),
  );
  add('KnownTypeNamesRule', 'unknown-variable-type', (doc, g) => {
    const defs = [...doc.vars.values()];
    if (!defs.length) return false;
    const d = g.r.pick(defs);
    d.type = d.type.replace(/[A-Za-z_]\w*/, (n) => g.r.pick([`${n}s`, n.toLowerCase(), 'PersistedQuery', 'Integer', 'Upload', 'JSONObject']));
    return true;
  });
  add('KnownTypeNamesRule', 'fragment-on-unknown-type', (doc, g) => {
    const fr = doc.defs.filter((d) => d.kind === 'frag');
    if (!fr.length) return false;
    g.r.pick(fr).on = g.r.pick(['PersistedQuery', 'Cty', 'Extensions', 'node']);
    return true;
  });
  add('FragmentsOnCompositeTypesRule', 'inline-on-leaf-type', (doc, g) =>
    addTo(doc, g, () => true, (t) => ({ kind: 'inline', on: g.r.pick(['Int', 'String', 'BranchType', 'DateTime', 'JSON', 'CityFilter', 'UpdateCoverageInput']), dirs: [], ptype: t.name, sel: [typename('X')] })),
  );
  add('FragmentsOnCompositeTypesRule', 'fragment-on-leaf-type', (doc, g) => {
    const fr = doc.defs.filter((d) => d.kind === 'frag');
    if (!fr.length) return false;
    g.r.pick(fr).on = g.r.pick(['ID', 'Boolean', 'CityKind', 'CoverageThreshold', 'JSON']);
    return true;
  });
  add('KnownFragmentNamesRule', 'unknown-fragment', (doc, g) =>
    addTo(doc, g, () => true, (t) => ({ kind: 'spread', name: g.r.pick(['PersistedQuery', 'query', 'Missing', 'GRAPHQL_VALIDATION_FAILED', 'errors', 'City']), dirs: [], ptype: t.name })),
  );
  add('NoUnusedFragmentsRule', 'unused-fragment', (doc, g) => {
    const t = g.r.pick(g.composites);
    let name = g.r.pick(['PersistedQuery', 'unused', 'Query', 'extensions', 'query', 'data']);
    while (doc.defs.some((d) => d.name === name)) name = `${name}${g.r.int(10)}`;
    doc.defs.splice(g.r.int(doc.defs.length + 1), 0, { kind: 'frag', name, on: t.name, dirs: [], sel: [typename(t.name)] });
    return true;
  });
  // Types overlap when they share a possible object type (graphql-js's doTypesOverlap).
  const overlap = (g, a, b) => {
    const set = (t) => (isAbstractType(t) ? g.schema.getPossibleTypes(t) : [t]).map((o) => o.name);
    const sa = new Set(set(a));
    return set(b).some((n) => sa.has(n));
  };
  add('PossibleFragmentSpreadsRule', 'impossible-inline-fragment', (doc, g) =>
    addTo(doc, g, () => true, (t) => {
      const others = g.composites.filter((c) => !overlap(g, c, t));
      if (!others.length) return null;
      return { kind: 'inline', on: g.r.pick(others).name, dirs: [], ptype: t.name, sel: [typename('X')] };
    }),
  );
  add('PossibleFragmentSpreadsRule', 'impossible-named-spread', (doc, g) => {
    const fr = doc.defs.filter((d) => d.kind === 'frag' && g.schema.getType(d.on) && isCompositeType(g.schema.getType(d.on)));
    if (!fr.length) return false;
    const f = g.r.pick(fr);
    return addTo(doc, g, (t) => !overlap(g, t, g.schema.getType(f.on)), (t) => ({ kind: 'spread', name: f.name, dirs: [], ptype: t.name }));
  });
  add('NoFragmentCyclesRule', 'fragment-cycle', (doc, g) => {
    const op = mainOp(doc, g);
    const root = op.type === 'query' ? 'Query' : op.type === 'mutation' ? 'Mutation' : 'Subscription';
    const [a, b] = g.r.shuffle(['PersistedQuery', 'CycleA', 'query', 'extensions', 'fragment']).slice(0, 2);
    if (doc.defs.some((d) => d.name === a || d.name === b)) return false;
    if (g.r.chance(0.4)) {
      doc.defs.push({ kind: 'frag', name: a, on: root, dirs: [], sel: [typename(root), { kind: 'spread', name: a, dirs: [], ptype: root }] });
    } else {
      doc.defs.push(
        { kind: 'frag', name: a, on: root, dirs: [], sel: [typename(root), { kind: 'spread', name: b, dirs: [], ptype: root }] },
        { kind: 'frag', name: b, on: root, dirs: [], sel: [{ kind: 'spread', name: a, dirs: [], ptype: root }, typename(root)] },
      );
    }
    if (op.type !== 'subscription') op.sel.push({ kind: 'spread', name: a, dirs: [], ptype: root });
    else if (g.r.chance(0.5)) op.sel[0] = { kind: 'spread', name: a, dirs: [], ptype: root };
    return true;
  });

  // 5.6.1 Values of correct type; 5.6.3 input object field uniqueness.
  add('ValuesOfCorrectTypeRule', 'wrong-literal', (doc, g) => {
    const vs = values(doc, g.schema).filter((x) => x.v.k !== 'var');
    if (!vs.length) return false;
    const x = g.r.pick(vs);
    x.replace({ k: 'raw', text: wrongLiteral(x.v.t, g), t: x.v.t });
    return true;
  });
  add('ValuesOfCorrectTypeRule', 'wrong-variable-default', (doc, g) => {
    const defs = [...doc.vars.values()];
    if (!defs.length) return false;
    const d = g.r.pick(defs);
    const t = g.schema.getType(d.type.replace(/[[\]!]/g, ''));
    if (!t) return false;
    // Approximate the type from its text: enough to make a wrong literal for it.
    const text = d.type.endsWith('!') ? 'null' : wrongLiteral(t, g);
    d.def = { k: 'raw', text };
    return true;
  });
  add('ValuesOfCorrectTypeRule', 'int-overflow', (doc, g) => {
    const vs = values(doc, g.schema).filter((x) => x.v.k === 'raw' && getNamedType(x.v.t)?.name === 'Int');
    if (!vs.length) return false;
    const x = g.r.pick(vs);
    x.replace({ k: 'raw', text: g.r.pick(['2147483648', '-2147483649', '4294967296', '9007199254740993']), t: x.v.t });
    return true;
  });
  add('UniqueInputFieldNamesRule', 'duplicate-input-field', (doc, g) => {
    const vs = values(doc, g.schema).filter((x) => x.v.k === 'obj' && x.v.fields.length);
    if (!vs.length) {
      // None to repeat a field in: a root field with an input object of its own.
      const op = mainOp(doc, g);
      if (op.type !== 'query') return false;
      const arg = g.r.pick(['{field: CODE, field: NAME}', '{direction: ASC, field: CODE, direction: DESC}', '{period: 2023, period: 2023}']);
      op.sel.push({ kind: 'field', alias: freeAlias(doc, op.sel, ['dup', 'extensions'], g), name: 'cities', args: [{ name: 'orderBy', v: { k: 'raw', text: arg } }], dirs: [], ptype: 'Query', sel: [{ kind: 'field', alias: null, name: 'totalCount', args: [], dirs: [], ptype: 'CityConnection' }] });
      return true;
    }
    const x = g.r.pick(vs);
    const f = g.r.pick(x.v.fields);
    x.v.fields.splice(g.r.int(x.v.fields.length + 1), 0, { name: f.name, v: f.v });
    return true;
  });

  // 5.7 Directives.
  add('KnownDirectivesRule', 'unknown-directive', (doc, g) => {
    const name = g.r.pick(['persistedQuery', 'PersistedQuery', 'defer', 'stream', 'live', 'cacheControl', 'extensions', 'query', 'GRAPHQL_VALIDATION_FAILED']);
    const d = { name, args: g.r.chance(0.5) ? [] : [{ name: 'if', v: { k: 'raw', text: 'true' } }] };
    const targets = [...fields(doc, g.schema).map((f) => f.s), ...doc.defs.filter((x) => x.kind !== 'raw')];
    g.r.pick(targets).dirs.push(d);
    return true;
  });
  add('KnownDirectivesRule', 'misplaced-directive', (doc, g) => {
    const r = g.r;
    const op = mainOp(doc, g);
    const where = r.pick(['op', 'frag', 'var', 'field']);
    const specified = { name: 'specifiedBy', args: [{ name: 'url', v: { k: 'raw', text: '"https://example.com"' } }] };
    const deprecated = { name: 'deprecated', args: r.chance(0.5) ? [] : [{ name: 'reason', v: { k: 'raw', text: '"x"' } }] };
    const skip = { name: r.pick(['skip', 'include']), args: [{ name: 'if', v: { k: 'raw', text: 'false' } }] };
    const oneOf = { name: 'oneOf', args: [] };
    if (where === 'op') op.dirs.push(r.pick([skip, specified, deprecated, oneOf]));
    else if (where === 'frag') {
      const fr = doc.defs.filter((d) => d.kind === 'frag');
      if (!fr.length) return false;
      r.pick(fr).dirs.push(r.pick([skip, deprecated, oneOf]));
    } else if (where === 'var') {
      const defs = [...doc.vars.values()].filter((d) => op.used.has(d.name));
      if (!defs.length) return false;
      r.pick(defs).dirs.push(r.pick([skip, deprecated, specified]));
    } else {
      const fs = fields(doc, g.schema);
      if (!fs.length) return false;
      r.pick(fs).s.dirs.push(r.pick([specified, deprecated, oneOf]));
    }
    return true;
  });
  add('UniqueDirectivesPerLocationRule', 'repeated-directive', (doc, g) => {
    const targets = [];
    for (const l of lists(doc, g.schema)) for (const s of l.list) targets.push(s);
    const s = g.r.pick(targets);
    const name = g.r.pick(['skip', 'include']);
    const v = name === 'skip' ? 'false' : 'true';
    s.dirs = [{ name, args: [{ name: 'if', v: { k: 'raw', text: v } }] }, { name, args: [{ name: 'if', v: { k: 'raw', text: g.r.pick(['true', 'false']) } }] }];
    return true;
  });

  // 5.8 Variables.
  add('UniqueVariableNamesRule', 'duplicate-variable', (doc, g) => {
    const op = mainOp(doc, g);
    const defs = [...doc.vars.values()].filter((d) => op.used.has(d.name));
    if (!defs.length) return false;
    const d = g.r.pick(defs);
    op.extraVars.push({ ...d, type: g.r.chance(0.5) ? d.type : 'String', dirs: [] });
    return true;
  });
  add('VariablesAreInputTypesRule', 'output-type-variable', (doc, g) => {
    const op = mainOp(doc, g);
    const type = g.r.pick(['City', 'Node', '[Coverage!]', 'Query', 'PageInfo!', 'UserError']);
    const defs = [...doc.vars.values()].filter((d) => op.used.has(d.name));
    if (defs.length && g.r.chance(0.6)) {
      g.r.pick(defs).type = type;
    } else {
      op.extraVars.push({ name: g.r.pick(['data', 'errors', 'city', 'node']), type, def: null, value: {}, supply: true, dirs: [] });
    }
    return true;
  });
  add('NoUndefinedVariablesRule', 'undefined-variable', (doc, g) => {
    const vs = values(doc, g.schema).filter((x) => x.v.k !== 'var');
    const name = g.r.pick(['query', 'variables', 'persistedQuery', 'undefined', 'extensions', 'operationName']);
    if (doc.vars.has(name)) return false;
    if (vs.length && g.r.chance(0.7)) {
      const x = g.r.pick(vs);
      x.replace({ k: 'var', name, t: x.v.t });
      return true;
    }
    const fs = fields(doc, g.schema);
    g.r.pick(fs).s.dirs.push({ name: 'include', args: [{ name: 'if', v: { k: 'var', name } }] });
    return true;
  });
  add('NoUndefinedVariablesRule', 'fragment-variable-undefined-in-second-operation', (doc, g) => {
    // A fragment using a variable, spread by two operations of which one defines it.
    const op = mainOp(doc, g);
    if (op.type !== 'query') return false;
    if (!op.name) op.name = g.word('Op');
    const name = g.r.pick(['PersistedQuery', 'Shared', 'fragment']);
    if (doc.defs.some((d) => d.name === name)) return false;
    const vname = 'code';
    if (doc.vars.has(vname)) return false;
    doc.vars.set(vname, { name: vname, type: 'ID!', def: null, value: '410800', supply: true, dirs: [] });
    op.used.add(vname);
    doc.defs.push({ kind: 'frag', name, on: 'Query', dirs: [], sel: [{ kind: 'field', alias: null, name: 'city', args: [{ name: 'code', v: { k: 'var', name: vname } }], dirs: [], ptype: 'Query', sel: [typename('City')] }] });
    op.sel.push({ kind: 'spread', name, dirs: [], ptype: 'Query' });
    let other = g.word('Op');
    while (other === op.name) other += '2';
    doc.defs.push({ kind: 'op', type: 'query', name: other, varNames: [], extraVars: [], dirs: [], sel: [{ kind: 'spread', name, dirs: [], ptype: 'Query' }], used: new Set(), fixedVars: true });
    doc.opName = g.r.chance(0.5) ? op.name : other;
    return true;
  });
  add('NoUnusedVariablesRule', 'unused-variable', (doc, g) => {
    const op = mainOp(doc, g);
    let name = g.r.pick(['query', 'extensions', 'persistedQuery', 'data', 'unused', 'operationName']);
    while (doc.vars.has(name)) name += '2';
    const type = g.r.pick(['Int', 'String', 'Boolean!', 'ID', '[ID!]', 'BranchType', 'CityFilter']);
    const value = { Int: 1, String: 'x', 'Boolean!': true, ID: '1', '[ID!]': ['1'], BranchType: 'TOWNSHIP', CityFilter: {} }[type];
    op.extraVars.push({ name, type, def: null, value, supply: true, dirs: [] });
    return true;
  });
  add('VariablesInAllowedPositionRule', 'variable-in-wrong-position', (doc, g) => {
    const op = mainOp(doc, g);
    const defs = [...doc.vars.values()].filter((d) => op.used.has(d.name));
    if (!defs.length) return false;
    const d = g.r.pick(defs);
    const base = d.type.replace(/!$/, '');
    const options = [];
    if (d.type.endsWith('!') && !d.def) options.push(base); // nullable in a non-null position
    if (base.startsWith('[')) options.push(base.replace(/^\[|\]$/g, '').replace(/!$/, '') + '!');
    else options.push(`[${base}]`);
    options.push(base === 'String' ? 'Int' : 'String', base === 'ID' ? 'Float' : 'ID', base === 'BranchType' ? 'CityKind' : 'BranchType');
    d.type = g.r.pick(options);
    d.def = null;
    d.loose = false;
    // The value still fits the new type where it can, so that variables never decide.
    return true;
  });
  add('VariablesInAllowedPositionRule', 'int-variable-for-float', (doc, g) => {
    const vs = values(doc, g.schema).filter((x) => x.v.k === 'raw' && ['Float', 'Boolean', 'ID'].includes(getNamedType(x.v.t)?.name));
    if (!vs.length) return false;
    const x = g.r.pick(vs);
    const op = mainOp(doc, g);
    let name = 'n';
    while (doc.vars.has(name)) name += '1';
    const named = getNamedType(x.v.t).name;
    const type = { Float: 'Int', Boolean: 'String', ID: 'Int' }[named];
    doc.vars.set(name, { name, type, def: null, value: undefined, supply: false, dirs: [] });
    op.used.add(name);
    x.replace({ k: 'var', name, t: x.v.t });
    return true;
  });

  // graphql-js's own rule (not in the specification's section 5; in specifiedRules since 16.9).
  add('MaxIntrospectionDepthRule', 'introspection-too-deep', (doc, g) => {
    const op = mainOp(doc, g);
    if (op.type !== 'query') return false;
    const text = g.r.pick([
      '__schema { types { fields { type { fields { type { fields { name } } } } } } }',
      '__type(name: "City") { fields { type { ofType { fields { type { fields { name } } } } } } }',
      '__type(name: "Node") { possibleTypes { interfaces { possibleTypes { name } } } }',
      '__type(name: "CityFilter") { inputFields { type { inputFields { type { inputFields { name } } } } } }',
    ]);
    op.sel.push({ kind: 'field', alias: null, name: text, args: [], dirs: [], ptype: 'Query' });
    return true;
  });

  // Syntax: text mutations (applied after printing).
  add('syntax', 'syntax-error', () => true);

  // ----- meant to stay valid: the server's own words where they are allowed -------------------
  add('valid', 'alias-our-word', (doc, g) => {
    const fs = fields(doc, g.schema).filter((f) => !f.s.alias);
    if (!fs.length) return false;
    const f = g.r.pick(fs);
    // Not a response name anywhere in the document: levels merge through fragments.
    const taken = new Set(fields(doc, g.schema).map((x) => x.s.alias ?? x.s.name));
    const alias = g.r.pick(OUR_WORDS.filter((w) => !taken.has(w)));
    f.s.alias = alias;
    return true;
  });
  add('valid', 'operation-named-our-word', (doc, g) => {
    const op = mainOp(doc, g);
    const name = g.r.pick(OUR_WORDS);
    if (doc.defs.some((d) => d.kind === 'op' && d.name === name)) return false;
    const old = op.name;
    op.name = name;
    if (doc.opName === old || g.r.chance(0.5)) doc.opName = name;
    return true;
  });
  add('valid', 'fragment-named-our-word', (doc, g) => {
    const fr = doc.defs.filter((d) => d.kind === 'frag');
    if (!fr.length) return false;
    const f = g.r.pick(fr);
    const name = g.r.pick(OUR_WORDS);
    if (doc.defs.some((d) => d.kind === 'frag' && d.name === name)) return false;
    const rename = (list) => {
      for (const s of list) {
        if (s.kind === 'spread' && s.name === f.name) s.name = name;
        if (s.sel) rename(s.sel);
      }
    };
    for (const d of doc.defs) if (d.sel) rename(d.sel);
    f.name = name;
    return true;
  });
  add('valid', 'introspection-at-root', (doc, g) => {
    const op = mainOp(doc, g);
    if (op.type !== 'query') return false;
    const text = g.r.pick([
      `__type(name: "${g.r.pick(['PersistedQuery', 'City', 'Query', 'extensions', 'Node', '__Schema'])}") { name kind }`,
      '__schema { queryType { name } subscriptionType { name } }',
      '__schema { directives { name locations args { name } } }',
      '__type(name: "Node") { possibleTypes { name } }',
    ]);
    op.sel.push({ kind: 'field', alias: freeAlias(doc, op.sel, g.r.chance(0.3) ? ['data', 'errors', 'extensions'] : [text.replace(/\(.*/s, '').replace(/ .*/s, '')], g), name: text, args: [], dirs: [], ptype: 'Query' });
    return true;
  });
  add('valid', 'root-typed-inline-fragment', (doc, g) => {
    const op = mainOp(doc, g);
    const root = op.type === 'query' ? 'Query' : op.type === 'mutation' ? 'Mutation' : null;
    if (!root) return false;
    op.sel = [{ kind: 'inline', on: root, dirs: [], ptype: root, sel: op.sel }];
    return true;
  });
  add('valid', 'duplicate-identical-field', (doc, g) => {
    const fs = fields(doc, g.schema).filter((f) => !f.s.sel && f.owner.type !== 'subscription');
    if (!fs.length) return false;
    const f = g.r.pick(fs);
    f.list.push({ ...f.s });
    return true;
  });
  add('valid', 'same-shape-on-different-parents', (doc, g) =>
    addTo(doc, g, (t) => isAbstractType(t), (t) => ({ kind: 'inline', on: null, dirs: [], ptype: t.name, sel: [
      { kind: 'inline', on: 'City', dirs: [], ptype: t.name, sel: [{ kind: 'field', alias: 'PersistedQuery', name: 'code', args: [], dirs: [], ptype: 'City' }] },
      { kind: 'inline', on: 'PilotProgram', dirs: [], ptype: t.name, sel: [{ kind: 'field', alias: 'PersistedQuery', name: 'code', args: [], dirs: [], ptype: 'PilotProgram' }] },
    ] })),
  );
  add('valid', 'typename-everywhere', (doc, g) => {
    let n = 0;
    if (fields(doc, g.schema).some((x) => x.s.alias === '__typename')) return false;
    for (const l of lists(doc, g.schema)) {
      if (l.owner.type === 'subscription' && l.type?.name === 'Subscription') continue;
      if (l.list.some((s) => (s.alias ?? s.name) === '__typename')) continue;
      l.list.push(typename(l.type?.name ?? 'X'));
      n++;
      if (n > 6) break;
    }
    return n > 0;
  });
  add('valid', 'variables-in-directives', (doc, g) => {
    const op = mainOp(doc, g);
    // Not on the root of a subscription: graphql-js 16 cannot judge that (see referee.mjs).
    const fs = fields(doc, g.schema).filter((f) => f.owner === op && !(op.type === 'subscription' && f.list === op.sel) && f.s.dirs.length < 2);
    if (!fs.length) return false;
    const f = g.r.pick(fs).s;
    const free = ['skip', 'include'].filter((d) => !f.dirs.some((x) => x.name === d));
    let name = g.r.pick(['include', 'skip', 'persistedQuery', 'if']);
    while (doc.vars.has(name)) name += '1';
    const nullable = g.r.chance(0.5);
    doc.vars.set(name, { name, type: nullable ? 'Boolean' : 'Boolean!', def: nullable ? { k: 'raw', text: 'true' } : null, value: g.r.chance(0.5), supply: !nullable || g.r.chance(0.5), dirs: [], loose: nullable });
    op.used.add(name);
    f.dirs.push({ name: g.r.pick(free), args: [{ name: 'if', v: { k: 'var', name } }] });
    return true;
  });
  add('valid', 'subscription-skipped-second-field', (doc, g) => {
    const op = mainOp(doc, g);
    if (op.type !== 'subscription') return false;
    op.sel.push({ kind: 'field', alias: 'second', name: 'pilotDesignationChanged', args: [], dirs: [{ name: g.r.pick(['skip', 'include']), args: [{ name: 'if', v: { k: 'raw', text: 'true' } }] }], ptype: 'Subscription', sel: [typename('X')] });
    if (op.sel.at(-1).dirs[0].name === 'include') op.sel.at(-1).dirs[0].args[0].v.text = 'false';
    return true;
  });
  add('valid', 'nullable-variable-with-default-in-non-null-position', (doc, g) => {
    const op = mainOp(doc, g);
    if (op.type !== 'query') return false;
    let name = g.r.pick(['code', 'query', 'persistedQuery', 'id']);
    while (doc.vars.has(name)) name += '1';
    doc.vars.set(name, { name, type: 'ID', def: { k: 'raw', text: '"410800"' }, value: '410100', supply: g.r.chance(0.5), dirs: [], loose: true });
    op.used.add(name);
    op.sel.push({ kind: 'field', alias: freeAlias(doc, op.sel, ['cityByCode', 'data', 'PersistedQuery'], g), name: 'city', args: [{ name: 'code', v: { k: 'var', name } }], dirs: [], ptype: 'Query', sel: [typename('City'), { kind: 'field', alias: null, name: 'name', args: [], dirs: [], ptype: 'City' }] });
    return true;
  });
  add('valid', 'nullable-variable-where-input-field-has-default', (doc, g) => {
    const op = mainOp(doc, g);
    if (op.type !== 'query') return false;
    let name = g.r.pick(['field', 'direction', 'orderBy']);
    while (doc.vars.has(name)) name += '1';
    const which = g.r.pick([['field', 'CityOrderField', 'NAME'], ['direction', 'OrderDirection', 'DESC']]);
    doc.vars.set(name, { name, type: which[1], def: null, value: g.r.chance(0.7) ? which[2] : undefined, supply: true, dirs: [] });
    op.used.add(name);
    op.sel.push({ kind: 'field', alias: freeAlias(doc, op.sel, ['sorted', 'data'], g), name: 'cities', args: [{ name: 'orderBy', v: { k: 'obj', fields: [{ name: which[0], v: { k: 'var', name } }] } }, { name: 'first', v: { k: 'raw', text: '2' } }], dirs: [], ptype: 'Query', sel: [{ kind: 'field', alias: null, name: 'totalCount', args: [], dirs: [], ptype: 'CityConnection' }] });
    return true;
  });
  add('valid', 'list-item-variable-and-coercion', (doc, g) => {
    const op = mainOp(doc, g);
    if (op.type !== 'query') return false;
    let name = g.r.pick(['id', 'ids', 'sha256Hash']);
    while (doc.vars.has(name)) name += '1';
    const roll = g.r.int(3);
    // A list variable given one value (coerced to a list); an item variable; a literal for a list.
    const v = [{ k: 'var', name }, { k: 'list', items: [{ k: 'var', name }, { k: 'raw', text: '"x"' }] }, { k: 'raw', text: '"410800"' }][roll];
    if (roll < 2) {
      doc.vars.set(name, { name, type: roll === 0 ? '[ID!]!' : 'ID!', def: null, value: roll === 0 ? 'Q2l0eToxMjM=' : '410800', supply: true, dirs: [] });
      op.used.add(name);
    }
    op.sel.push({ kind: 'field', alias: freeAlias(doc, op.sel, ['nodes', 'data', 'extensions'], g), name: 'nodes', args: [{ name: 'ids', v }], dirs: [], ptype: 'Query', sel: [{ kind: 'field', alias: null, name: 'id', args: [], dirs: [], ptype: 'Node' }] });
    return true;
  });
  add('valid', 'strings-and-numbers-at-the-edges', (doc, g) => {
    const op = mainOp(doc, g);
    if (op.type !== 'query') return false;
    const code = g.r.pick(['"""41\\"""0800"""', '"\\u0034\\u0031\\u0030\\u0038\\u0030\\u0030"', '"\\"quoted\\""', '2147483647', '"{ __typename }"', '"PersistedQuery"', '""', '"""\n  block\n"""']);
    op.sel.push({ kind: 'field', alias: freeAlias(doc, op.sel, ['edge'], g), name: 'city', args: [{ name: 'code', v: { k: 'raw', text: code } }], dirs: [], ptype: 'Query', sel: [typename('City')] });
    op.sel.push({ kind: 'field', alias: freeAlias(doc, op.sel, ['edgeSummary'], g), name: 'summary', args: [{ name: 'period', v: { k: 'raw', text: g.r.pick(['-2147483648', '2147483647', '0', '-0']) } }], dirs: [], ptype: 'Query', sel: [{ kind: 'field', alias: null, name: 'period', args: [], dirs: [], ptype: 'CoverageSummary' }] });
    return true;
  });
  return M;
}
