"""prune.py keeps, of openapi-gen's output for the packages shoal serves
from, only the definitions the served kinds reach. Run by gen.sh."""
import re, sys

src = open(sys.argv[1]).read()
roots = sys.argv[2].split(',')
head, body = src.split('func GetOpenAPIDefinitions', 1)
mapblock, rest = body.split('\n}\n', 1)
entries = dict(re.findall(r'\t\t(\S+\{\}\.OpenAPIModelName\(\)):\s+(schema_\w+)\(ref\),', mapblock))
funcs = {}
for m in re.finditer(r'\nfunc (schema_\w+)\(ref common\.ReferenceCallback\) common\.OpenAPIDefinition \{\n(.*?)\n\}\n', '\n' + rest, re.S):
    funcs[m.group(1)] = m.group(0)
keep, todo = [], [r + '{}.OpenAPIModelName()' for r in roots]
while todo:
    e = todo.pop()
    if e in keep:
        continue
    keep.append(e)
    fn = entries[e]
    _, _, deps = funcs[fn].partition('Dependencies: []string{')
    todo += re.findall(r'\w+\.\w+\{\}\.OpenAPIModelName\(\)', deps)
keep.sort()
out = [head, 'func GetOpenAPIDefinitions(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {\n\treturn map[string]common.OpenAPIDefinition{\n']
out += ['\t\t%s: %s(ref),\n' % (e, entries[e]) for e in keep]
out.append('\t}\n}\n')
out += [funcs[entries[e]].lstrip('\n') + '\n' for e in keep]
text = ''.join(out)
# drop imports no kept definition uses
for alias, path in re.findall(r'\n\t(\w+) "([^"]+)"', head):
    if alias not in ('spec', 'common') and not re.search(r'\b%s\.[A-Z]\w*\{\}' % alias, text[len(head):]):
        text = text.replace('\t%s "%s"\n' % (alias, path), '')
open(sys.argv[3], 'w').write(text)
print(len(keep), 'definitions kept of', len(entries))
