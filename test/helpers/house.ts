import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'

/**
 * Measures the shape of `src/` from its own text: file sizes, runtime imports (type-only
 * imports erase at build time, so they cannot make a circle), and function lengths.
 * The house test asserts on it; `node --import jiti/register test/helpers/house.ts`
 * prints it.
 */
export interface SourceFile {
  readonly path: string
  readonly lines: number
  readonly imports: readonly string[]
  readonly functions: readonly FunctionSize[]
}
export interface FunctionSize {
  readonly name: string
  readonly line: number
  /** Lines of the body, less those of functions defined inside it when the outer one is a create… factory. */
  readonly lines: number
  /** The comment just above, where the reason for a long function goes. */
  readonly comment: string
}

export function readHouse(root: string): SourceFile[] {
  const src = join(root, 'src')
  return listTs(src).map((file) => measure(root, file))
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return listTs(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

function measure(root: string, file: string): SourceFile {
  const text = readFileSync(file, 'utf8')
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const imports: string[] = []
  const functions: FunctionSize[] = []
  for (const statement of source.statements) {
    const target = runtimeImport(statement)
    if (target?.startsWith('.')) imports.push(relative(root, resolveTs(dirname(file), target)))
  }
  const visit = (node: ts.Node): void => {
    if (isFunctionLike(node) && node.body) functions.push(functionSize(source, node))
    ts.forEachChild(node, visit)
  }
  visit(source)
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
  return { path: relative(root, file), lines, imports, functions }
}

function runtimeImport(statement: ts.Statement): string | undefined {
  if (ts.isImportDeclaration(statement)) {
    const clause = statement.importClause
    if (clause?.isTypeOnly) return undefined
    const bindings = clause?.namedBindings
    const allTypes =
      clause &&
      !clause.name &&
      bindings &&
      ts.isNamedImports(bindings) &&
      bindings.elements.length > 0 &&
      bindings.elements.every((element) => element.isTypeOnly)
    if (allTypes) return undefined
    return (statement.moduleSpecifier as ts.StringLiteral).text
  }
  if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && !statement.isTypeOnly) {
    return (statement.moduleSpecifier as ts.StringLiteral).text
  }
  return undefined
}

function resolveTs(dir: string, specifier: string): string {
  return resolve(dir, specifier).replace(/\.js$/, '.ts')
}

type FunctionNode = ts.FunctionLikeDeclaration & { body?: ts.Node }
function isFunctionLike(node: ts.Node): node is FunctionNode {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessor(node) ||
    ts.isSetAccessor(node)
  )
}

function functionSize(source: ts.SourceFile, node: FunctionNode): FunctionSize {
  const name = functionName(node)
  const span = (n: ts.Node): number =>
    source.getLineAndCharacterOfPosition(n.getEnd()).line -
    source.getLineAndCharacterOfPosition(n.getStart(source)).line +
    1
  let lines = span(node)
  if (/^create[A-Z]/.test(name) && node.body) {
    // A factory whose body is a set of small methods is measured without them.
    const inner = (n: ts.Node): void => {
      if (isFunctionLike(n)) lines -= span(n)
      else ts.forEachChild(n, inner)
    }
    ts.forEachChild(node.body, inner)
  }
  const start = node.getFullStart()
  const holder = ts.isArrowFunction(node) || ts.isFunctionExpression(node) ? statementOf(node) : node
  const comments = ts.getLeadingCommentRanges(source.text, holder.getFullStart()) ?? []
  const comment = comments.map((range) => source.text.slice(range.pos, range.end)).join('\n')
  return {
    name,
    line: source.getLineAndCharacterOfPosition(start).line + 2,
    lines,
    comment,
  }
}

function statementOf(node: ts.Node): ts.Node {
  let current = node
  while (current.parent && !ts.isSourceFile(current.parent) && !ts.isBlock(current.parent)) {
    current = current.parent
  }
  return current
}

function functionName(node: FunctionNode): string {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text
  if (ts.isConstructorDeclaration(node)) return 'constructor'
  const parent = node.parent
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text
  return '(anonymous)'
}

/** Circles among runtime imports (Tarjan's strongly connected components of more than one file). */
export function importCircles(files: readonly SourceFile[]): string[][] {
  const graph = new Map(files.map((file) => [file.path, file.imports]))
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const circles: string[][] = []
  let next = 0
  const connect = (node: string): void => {
    index.set(node, next)
    low.set(node, next)
    next++
    stack.push(node)
    onStack.add(node)
    for (const to of graph.get(node) ?? []) {
      if (!graph.has(to)) continue
      if (!index.has(to)) {
        connect(to)
        low.set(node, Math.min(low.get(node) ?? 0, low.get(to) ?? 0))
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(to) ?? 0))
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = []
      let member: string | undefined
      do {
        member = stack.pop()
        if (member === undefined) break
        onStack.delete(member)
        component.push(member)
      } while (member !== node)
      if (component.length > 1) circles.push(component.sort())
    }
  }
  for (const node of graph.keys()) if (!index.has(node)) connect(node)
  return circles
}

/** The stage folders of STYLE.md: they share core/, config/, storage/, engine/, catalog/ and state/, and only pipeline/ and cli/ wire them. */
export const STAGES = [
  'sources',
  'stream',
  'landing',
  'refine',
  'models',
  'alerts',
  'serve',
  'warehouse',
  'scheduler',
] as const

/** Imports from one stage folder into another; the stream port (`stream/stream.ts`) is shared. */
export function stageCrossings(files: readonly SourceFile[]): string[] {
  const folderOf = (path: string): string => path.split('/')[1] ?? ''
  const crossings: string[] = []
  for (const file of files) {
    const from = folderOf(file.path)
    if (!(STAGES as readonly string[]).includes(from)) continue
    for (const to of file.imports) {
      const target = folderOf(to)
      if (target === from || !(STAGES as readonly string[]).includes(target)) continue
      if (to === 'src/stream/stream.ts') continue
      crossings.push(`${file.path} → ${to}`)
    }
  }
  return crossings
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const files = readHouse(process.cwd())
  for (const file of files.filter((f) => f.lines > 300)) console.log(`file ${file.lines} ${file.path}`)
  for (const circle of importCircles(files)) console.log(`circle ${circle.join(' ')}`)
  for (const crossing of stageCrossings(files)) console.log(`crossing ${crossing}`)
  for (const file of files) {
    for (const fn of file.functions.filter((f) => f.lines > 80)) {
      console.log(`function ${fn.lines} ${file.path}:${fn.line} ${fn.name}`)
    }
  }
}
