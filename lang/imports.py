"""Modules and imports: finding a module's file, the folder restriction, cycles.

A spec may import files in its own folder tree and the stdlib; a module is
identified by its resolved path, loaded once, and an import that is already
being loaded is a cycle (E0403), reported with the chain of `import` lines.
"""

from __future__ import annotations

from pathlib import Path

from lang import reads
from lang import syntax as ast
from lang.diagnostics import InferError, Label, SourceMap, Span, did_you_mean
from lang.limits import MAX_NAME_LENGTH
from lang.parser import KEYWORDS, parse_module_cached
from lang.scopes import (
    Layer,
    LoadedModule,
    ModuleScope,
    Override,
    PackageVal,
    Poison,
    RecordVal,
    ResolverBase,
    join,
)


def stdlib_path() -> Path:
    """The shipped stdlib: inside the installed package, or the repo's `stdlib/`."""
    here = Path(__file__).resolve().parent
    packaged = here / "stdlib"
    return packaged if packaged.is_dir() else here.parent / "stdlib"


class ImportStage(ResolverBase):
    def __init__(self, root_file: Path, sources: SourceMap, overrides: list[Override]):
        super().__init__(root_file, sources, overrides)
        self.stdlib = stdlib_path().resolve()
        self.module_names: dict[str, Path] = {}     # the prefix of a module's nodes → its file

    def load_module(self, file: Path, name: str, span: Span | None) -> LoadedModule | None:
        file = reads.resolve(file)
        if file in self.modules:
            return self.modules[file]
        if any(f == file for f, _ in self.loading):
            chain = [f for f, _ in self.loading] + [file]
            start = chain.index(file)
            names = " → ".join(p.stem for p in chain[start:])
            labels = tuple(Label(s, f"`{f.stem}` imports the next") for f, s in self.loading[start + 1:] if s)
            self.diag.error("E0403", f"import cycle: {names}", span, label="imported here",
                            secondary=labels,
                            help=("move the shared definitions into a module both can import",))
            return None
        try:
            text = reads.read_text(file)
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.diag.error("E0402", f"cannot read module `{name}`: {reason}", span)
            return None
        display = display_path(file)
        self.sources.add(display, text)
        try:
            module_ast = parse_module_cached(text, display)
        except InferError as err:
            self.diag.items.extend(err.diagnostics)
            return None
        self.loading.append((file, span))
        if not self.modules and not self.root_member_names:
            self.root_member_names = {m.name for m in module_ast.members if isinstance(m, ast.NAMED_MEMBERS)}
        elif name in self.root_member_names:
            name = f"{name}@module"   # the spec binds the same name: keep the two quantities apart
        if name:
            name = self._module_name(name, file)
        scope = ModuleScope(self)
        layer = Layer({}, [], [], scope)
        record = RecordVal(name, (layer,), Span(display, 1, 1, 1, 1), is_module=True)
        scope.module = record
        mod = LoadedModule(name, file, record, scope)
        self._collect_members(module_ast.members, layer, record.path, module=mod)
        self.loading.pop()
        self.modules[file] = mod
        return mod

    def _find_module(self, parts: tuple[str, ...], importer: Path, span: Span) -> Path | None:
        found = self._locate(parts, importer.parent, span)
        if found is None or isinstance(found, Path):
            return found
        # What could have been meant: modules in the same folder (`a.b` looks in `a/`), not this file.
        folder = Path(*parts[:-1])
        prefix = "".join(f"{p}." for p in parts[:-1])
        stems: list[str] = []
        try:
            stems = sorted({p.stem for base in (importer.parent, self.stdlib)
                            for p in (base / folder).glob("*.infer") if p.resolve() != importer.resolve()})
        except OSError:      # a folder path too long to list: no suggestions, still the error
            pass
        hint = did_you_mean(parts[-1], stems)
        if hint and prefix:
            hint = (hint[0].replace("`", f"`{prefix}", 1),)
        shown = ", ".join(prefix + s for s in stems[:12]) + (
            f", and {len(stems) - 12} more" if len(stems) > 12 else "")
        self.diag.error("E0401", f"no module named `{'.'.join(parts)}`", span,
                        label="not found beside this file nor in the stdlib",
                        help=hint or ((f"modules available: {shown}",) if stems else ()))
        return None

    def _locate(self, parts: tuple[str, ...], folder: Path, span: Span) -> Path | bool | None:
        """The file a dotted module name means from `folder`: there, else in the stdlib.

        False when there is none; None (with E0404) when it resolves outside the spec's folder
        tree and the stdlib, through a symlink or `..`. Every way a module is reached comes here.
        """
        if any(len(p) > MAX_NAME_LENGTH for p in parts):
            self.diag.error("E0107", f"module name longer than {MAX_NAME_LENGTH} characters", span,
                            label="too long")
            return None
        rel = Path(*parts).with_suffix(".infer")
        for base in (folder, self.stdlib):
            candidate = base / rel
            try:
                if not reads.is_file(candidate):     # a miss is logged too: a module may appear later
                    continue
                real = reads.resolve(candidate)
            except (OSError, RuntimeError):    # a path too long for the file system, a symlink loop
                continue
            if not (inside(real, self.root_dir) or inside(real, self.stdlib)):
                self.diag.error("E0404", f"module `{'.'.join(parts)}` is outside the spec's folder",
                                span, label="not allowed",
                                help=("a spec may import files in its own folder tree and the stdlib",))
                return None
            return candidate
        return False

    def module_by_name(self, name: str, span: Span) -> RecordVal | Poison | None:
        """A module a `--set` value names (`precisions.fp8`), found as the spec's own import would be:
        None when there is no such module, Poison when finding or loading it erred."""
        found = self._locate((name,), self.root_dir, span)
        if found is False:
            return None
        module = self.load_module(found, name, span) if isinstance(found, Path) else None
        return module.record if module is not None else Poison(name, span)

    def _module_name(self, name: str, file: Path) -> str:
        """The path prefix of a module's quantities: its name, unless another file has it.

        A local `precisions.infer` and the stdlib's are two modules: the stdlib's `serving`
        must keep reading its own, so the second one loaded is named apart.
        """
        holder = self.module_names.setdefault(name, file)
        if holder == file:
            return name
        qualified = f"{name}@stdlib" if inside(file, self.stdlib) else f"{name}@{len(self.module_names)}"
        while self.module_names.setdefault(qualified, file) != file:
            qualified += "'"
        return qualified

    def _bind_import(self, stmt: ast.Import | ast.FromImport, module: LoadedModule) -> None:
        file = self._find_module(stmt.module, module.file, stmt.span)
        dotted = ".".join(stmt.module)
        target = self.load_module(file, dotted, stmt.span) if file is not None else None
        if target is None:
            poison = Poison(dotted, stmt.span)
            if isinstance(stmt, ast.Import):
                names = [stmt.alias or stmt.module[0]]
            else:
                names = [n for n, _ in stmt.names]
            for bound in names:
                module.scope.imports[bound] = lambda p=poison: p  # type: ignore[misc]
            return
        scope = module.scope
        if isinstance(stmt, ast.Import):
            if stmt.alias in KEYWORDS:
                self.diag.error("E0212", f"`{stmt.alias}` is a keyword and cannot name a module", stmt.span,
                                help=("choose another name after `as`",))
                return
            if stmt.alias or len(stmt.module) == 1:
                bound = stmt.alias or stmt.module[0]
                rec = target.record
                scope.imports[bound] = lambda rec=rec: rec  # type: ignore[misc]
            else:
                head = stmt.module[0]
                existing = scope.imports.get(head)
                package = existing() if existing else None
                if not isinstance(package, PackageVal):
                    package = PackageVal(head, {})
                node = package
                for part in stmt.module[1:-1]:
                    child = node.children.get(part)
                    if not isinstance(child, PackageVal):
                        child = PackageVal(join(node.path, part), {})
                        node.children[part] = child
                    node = child
                node.children[stmt.module[-1]] = target.record
                scope.imports[head] = lambda p=package: p  # type: ignore[misc]
            return
        for name, span in stmt.names:
            if not target.record.member(name):
                self.diag.error("E0402", f"module `{dotted}` has no member `{name}`", span,
                                label="not defined there",
                                help=did_you_mean(name, target.record.field_names()))
                poison = Poison(f"{dotted}.{name}", span)     # its uses stay silent: this erred
                scope.imports[name] = lambda p=poison: p  # type: ignore[misc]
                continue
            rec, nm, sp = target.record, name, span
            scope.imports[name] = lambda rec=rec, nm=nm, sp=sp: self.field_value(rec, nm, sp)  # type: ignore[misc]


def inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def display_path(file: Path) -> str:
    stdlib = stdlib_path().resolve()
    if inside(file, stdlib):
        return f"<stdlib>/{file.relative_to(stdlib)}"
    try:
        return str(file.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(file)
