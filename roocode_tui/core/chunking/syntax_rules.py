"""Empirical tree-sitter tables for a generic "chunk code by its definitions" algorithm.

Verified against tree_sitter 0.26.1 + tree_sitter_language_pack 0.13.0
(see check.py / snippets.py / NOTES.md next to this file).

Python API facts (0.26.1): node.type (str), node.text (bytes), node.children,
node.named_children, node.child_by_field_name(name), node.children_by_field_name(name),
node.field_name_for_child(i), node.prev_sibling / prev_named_sibling, node.parent,
node.start_point / end_point (tree_sitter.Point with .row/.column, 0-based, also a tuple),
node.start_byte / end_byte, node.is_named, node.has_error, node.is_missing.

Per-language keys of LANGS[grammar]:
  definitions : {node_type: label}   static labels. Types listed under "dynamic" are only
                                     definitions when def_label() says so.
  dynamic     : {node_type: how}     label (and definition-ness) computed from the node.
  wrappers    : {node_type: how}     node that *contains* a definition and should be treated
                                     as that definition (its range is the one to keep).
  wrapped_only: (node types) in definitions that count only when reached through a wrapper
  containers  : {node_type or "type:label": path}   where members live (see resolve_path).
                  path steps: "field"           child_by_field_name(field)
                              "field:t1|t2"     same, but the child must be of one of the types
                              "[t1|t2]"         first named child of one of these types
                              "."               the node itself (members are direct children)
  comments    : [node types]
  attached_before : [node types] non-comment SIBLINGS that precede a definition and belong to
                    it (rust attribute_item, TS class-member decorator, elixir @doc/@spec).
  swallowing  : [node types] nodes whose LAST child may be a comment that really documents the
                NEXT sibling (kotlin package_header/import_list, toml table).
  doc         : where doc comments live ("sibling" = preceding sibling comment(s);
                "body" = first statement of the body is a string, etc.)
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------

_JS_COMMON_DEFS = {
    "function_declaration": "function",
    "generator_function_declaration": "function*",
    "class_declaration": "class",
    "method_definition": "method",
    # reached only through wrappers (const x = () => ..., export default class {...})
    "arrow_function": "function",
    "function_expression": "function",
    "function": "function",  # older grammars' name for function_expression
    "generator_function": "function*",
    "class": "class",
}
# definition types that count ONLY when reached through a wrapper
_JS_WRAPPED_ONLY = ("arrow_function", "function_expression", "function", "generator_function", "class")

_JS_WRAPPERS = {
    "export_statement": "field 'declaration', else field 'value' (export default <expr>)",
    "lexical_declaration": "variable_declarator whose field 'value' is arrow_function/"
    "function_expression/generator_function/class; name = declarator 'name'",
    "variable_declaration": "same as lexical_declaration (var)",
    "expression_statement": "assignment_expression whose 'right' is a function/class "
    "(Foo.prototype.x = function(){}, exports.y = ...); name = 'left' text; "
    "TS: also `namespace X {}` which parses as expression_statement > internal_module",
}

_TS_DEFS = dict(_JS_COMMON_DEFS)
_TS_DEFS.update(
    {
        "function_signature": "function",  # overloads, `declare function`
        "abstract_class_declaration": "abstract class",
        "interface_declaration": "interface",
        "type_alias_declaration": "type",
        "enum_declaration": "enum",
        "internal_module": "namespace",
        "module": "module",  # declare module "x" { }
        "abstract_method_signature": "method",
        "method_signature": "method",  # interface member
    }
)
_TS_WRAPPERS = dict(_JS_WRAPPERS)
_TS_WRAPPERS.update(
    {
        "ambient_declaration": "`declare ...`: first named child",
        "public_field_definition": "class field whose 'value' is an arrow/function expression",
    }
)
_TS_CONTAINERS = {
    "class_declaration": ("body",),
    "abstract_class_declaration": ("body",),
    "class": ("body",),
    "interface_declaration": ("body",),
    "internal_module": ("body",),
    "module": ("body",),
}

LANGS: dict[str, dict] = {
    "python": {
        "definitions": {
            "function_definition": "def",
            "class_definition": "class",
            "type_alias_statement": "type",  # PEP 695 `type X = ...`
        },
        "dynamic": {},
        "wrappers": {"decorated_definition": "field 'definition'"},
        "containers": {"class_definition": ("body",)},
        "comments": ["comment"],
        "attached_before": [],
        "swallowing": [],
        "doc": "docstring = first `string` child of body block (NOT wrapped in "
        "expression_statement in this grammar version); `#` comments are preceding siblings. "
        "QUIRK (same as ruby): a comment before the FIRST member of a class is a child of "
        "class_definition (sibling of the body block), not inside the block",
    },
    "typescript": {
        "definitions": _TS_DEFS,
        "dynamic": {},
        "wrappers": _TS_WRAPPERS,
        "wrapped_only": _JS_WRAPPED_ONLY,
        "containers": _TS_CONTAINERS,
        "comments": ["comment"],
        "attached_before": ["decorator"],  # decorators of class MEMBERS are siblings in class_body
        "swallowing": [],
        "doc": "JSDoc `comment` is a preceding sibling of the export_statement/declaration",
    },
    "javascript": {
        "definitions": dict(_JS_COMMON_DEFS),
        "dynamic": {},
        "wrappers": dict(_JS_WRAPPERS, field_definition="class field whose 'value' is a function"),
        "wrapped_only": _JS_WRAPPED_ONLY,
        "containers": {"class_declaration": ("body",), "class": ("body",)},
        "comments": ["comment"],
        "attached_before": ["decorator"],
        "swallowing": [],
        "doc": "JSDoc `comment` is a preceding sibling; class members have field name 'member'",
    },
    "go": {
        "definitions": {
            "function_declaration": "func",
            "method_declaration": "func",
        },
        "dynamic": {
            "type_declaration": "'struct'/'interface'/'type' from the (single) "
            "type_spec's 'type' field; type_alias -> 'type'"
        },
        "wrappers": {},
        "containers": {},  # methods are top-level; struct/interface bodies hold no definitions
        "comments": ["comment"],
        "attached_before": [],
        "swallowing": [],
        "doc": "`//` comment lines are preceding siblings (one node per line)",
    },
    "rust": {
        "definitions": {
            "function_item": "fn",
            "function_signature_item": "fn",
            "struct_item": "struct",
            "enum_item": "enum",
            "union_item": "union",
            "trait_item": "trait",
            "impl_item": "impl",
            "mod_item": "mod",
            "foreign_mod_item": "extern",
            "type_item": "type",
            "macro_definition": "macro_rules!",
            "const_item": "const",
            "static_item": "static",
        },
        "dynamic": {},
        "wrappers": {},
        "containers": {
            "impl_item": ("body",),
            "trait_item": ("body",),
            "mod_item": ("body",),
            "foreign_mod_item": ("body",),
        },
        "comments": ["line_comment", "block_comment"],
        "attached_before": ["attribute_item"],  # #[derive(..)] is a SIBLING before the item
        "swallowing": [],
        "doc": "`///` is a line_comment (child doc_comment) preceding sibling; its end_point is "
        "(row+1, 0) because it includes the newline. `//!` inner docs likewise.",
    },
    "java": {
        "definitions": {
            "class_declaration": "class",
            "interface_declaration": "interface",
            "enum_declaration": "enum",
            "record_declaration": "record",
            "annotation_type_declaration": "@interface",
            "method_declaration": "method",
            "constructor_declaration": "constructor",
            "compact_constructor_declaration": "constructor",
        },
        "dynamic": {},
        "wrappers": {},
        "containers": {
            "class_declaration": ("body",),
            "interface_declaration": ("body",),
            "record_declaration": ("body",),
            "annotation_type_declaration": ("body",),
            # enum methods live in enum_body > enum_body_declarations
            "enum_declaration": ("body", "[enum_body_declarations]"),
        },
        "comments": ["line_comment", "block_comment"],
        "attached_before": [],  # annotations are inside the `modifiers` child (no field name)
        "swallowing": [],
        "doc": "Javadoc is a block_comment preceding sibling",
    },
    "c": {
        "definitions": {
            "function_definition": "function",
            "struct_specifier": "struct",
            "union_specifier": "union",
            "enum_specifier": "enum",
            "type_definition": "typedef",
            "preproc_function_def": "#define",
            "preproc_ifdef": "#ifdef",
            "preproc_if": "#if",
            "linkage_specification": "extern",
        },
        "dynamic": {
            # a header's API: `int f(int);`, `LIB_API(int) f(void);` (not `int x;`)
            "declaration": "'function' when its declarator is a function_declarator (under pointers)",
        },
        "wrappers": {},
        "containers": {
            # header guards / #if blocks: definitions are direct children
            "preproc_ifdef": (".",),
            "preproc_if": (".",),
            "linkage_specification": ("body",),
        },
        "comments": ["comment"],
        "attached_before": [],
        "swallowing": [],
        "doc": "`/* */`, `/** */` and `//` are all `comment`, preceding sibling",
    },
    "cpp": {
        "definitions": {
            "function_definition": "function",
            "class_specifier": "class",
            "struct_specifier": "struct",
            "union_specifier": "union",
            "enum_specifier": "enum",
            "namespace_definition": "namespace",
            "alias_declaration": "using",
            "type_definition": "typedef",
            "concept_definition": "concept",
            "linkage_specification": "extern",
            "preproc_function_def": "#define",
            "preproc_ifdef": "#ifdef",
            "preproc_if": "#if",
        },
        "dynamic": {
            "declaration": "'function' when its declarator is a function_declarator (under pointers)",
            "field_declaration": "'function' for a method declared in a class body",
        },
        "wrappers": {"template_declaration": "first named child that is a definition (after field 'parameters')"},
        "containers": {
            "namespace_definition": ("body",),
            "class_specifier": ("body",),
            "struct_specifier": ("body",),
            "union_specifier": ("body",),
            "linkage_specification": ("body",),
            "preproc_ifdef": (".",),
            "preproc_if": (".",),
        },
        "comments": ["comment"],
        "attached_before": [],
        "swallowing": [],
        "doc": "`///` and `/** */` are `comment`, preceding sibling",
    },
    "csharp": {
        "definitions": {
            "class_declaration": "class",
            "struct_declaration": "struct",
            "interface_declaration": "interface",
            "enum_declaration": "enum",
            "record_declaration": "record",
            "record_struct_declaration": "record struct",
            "delegate_declaration": "delegate",
            "namespace_declaration": "namespace",
            "file_scoped_namespace_declaration": "namespace",
            "method_declaration": "method",
            "constructor_declaration": "constructor",
            "destructor_declaration": "destructor",
            "operator_declaration": "operator",
            "conversion_operator_declaration": "operator",
            "property_declaration": "property",
            "indexer_declaration": "indexer",
            "event_declaration": "event",
            "local_function_statement": "function",
        },
        "dynamic": {},
        "wrappers": {},
        "containers": {
            "namespace_declaration": ("body",),
            "class_declaration": ("body",),
            "struct_declaration": ("body",),
            "interface_declaration": ("body",),
            "record_declaration": ("body",),
            # file_scoped_namespace_declaration has NO body: following siblings are its members
        },
        "comments": ["comment"],
        "attached_before": [],  # [Attr] attribute_list is a child of the declaration
        "swallowing": [],
        "doc": "`/// <summary>` lines are `comment` preceding siblings",
    },
    "ruby": {
        "definitions": {
            "method": "def",
            "singleton_method": "def",
            "class": "class",
            "module": "module",
            "singleton_class": "class <<",
        },
        "dynamic": {},
        "wrappers": {},
        "containers": {
            "class": ("body",),
            "module": ("body",),
            "singleton_class": ("body",),
        },
        "comments": ["comment"],
        "attached_before": [],
        "swallowing": [],
        "doc": "`#` comment preceding sibling. QUIRK: a comment before the FIRST member is a child "
        "of class/module (sibling of body_statement), not inside body_statement; "
        "body_statement starts at the first statement's row.",
    },
    "php": {
        "definitions": {
            "function_definition": "function",
            "method_declaration": "function",
            "anonymous_function": "function",  # via wrapper only
            "arrow_function": "function",  # via wrapper only
            "class_declaration": "class",
            "interface_declaration": "interface",
            "trait_declaration": "trait",
            "enum_declaration": "enum",
            "namespace_definition": "namespace",
        },
        "dynamic": {},
        "wrappers": {
            "expression_statement": "assignment_expression whose 'right' is "
            "anonymous_function/arrow_function; name = 'left' text"
        },
        "wrapped_only": ("anonymous_function", "arrow_function"),
        "containers": {
            "class_declaration": ("body",),
            "interface_declaration": ("body",),
            "trait_declaration": ("body",),
            "enum_declaration": ("body",),
            "namespace_definition": ("body",),  # only `namespace X { }`; `namespace X;` has no body
        },
        "comments": ["comment"],
        "attached_before": [],  # #[Attr] is field 'attributes' inside the declaration
        "swallowing": [],
        "doc": "`/** */`, `//`, `#` are all `comment`, preceding sibling",
    },
    "kotlin": {
        "definitions": {
            "object_declaration": "object",
            "companion_object": "companion object",
            "function_declaration": "fun",
            "type_alias": "typealias",
            "secondary_constructor": "constructor",
            "anonymous_initializer": "init",
        },
        "dynamic": {
            "class_declaration": "keyword tokens: 'class' | 'interface' | 'enum class' | "
            "'fun interface' (interfaces and enums are class_declaration)"
        },
        "wrappers": {},
        "containers": {
            "class_declaration": ("[class_body|enum_class_body]",),
            "object_declaration": ("[class_body]",),
            "companion_object": ("[class_body]",),
        },
        "comments": ["line_comment", "multiline_comment"],
        "attached_before": [],  # annotations inside `modifiers`
        "swallowing": ["package_header", "import_list", "import_header"],
        "doc": "KDoc is a multiline_comment preceding sibling, EXCEPT right after the package/"
        "import lines: then it is swallowed as last child of package_header/import_header",
    },
    "swift": {
        "definitions": {
            "protocol_declaration": "protocol",
            "function_declaration": "func",
            "protocol_function_declaration": "func",
            "init_declaration": "init",
            "deinit_declaration": "deinit",
            "subscript_declaration": "subscript",
            "typealias_declaration": "typealias",
        },
        "dynamic": {
            "class_declaration": "field 'declaration_kind' text: class|struct|enum|extension|actor",
            "property_declaration": "'var' only when it has field 'computed_value'",
        },
        "wrappers": {},
        "containers": {
            "class_declaration": ("body",),  # class_body or enum_class_body
            "protocol_declaration": ("body",),  # protocol_body
        },
        "comments": ["comment", "multiline_comment"],
        "attached_before": [],  # @attributes inside `modifiers`
        "swallowing": [],
        "doc": "`///` comment preceding sibling",
    },
    "scala": {
        "definitions": {
            "class_definition": "class",
            "object_definition": "object",
            "trait_definition": "trait",
            "enum_definition": "enum",
            "function_definition": "def",
            "function_declaration": "def",
            "type_definition": "type",
            "given_definition": "given",
            "extension_definition": "extension",
            "package_object": "package object",
        },
        "dynamic": {},
        "wrappers": {},
        "containers": {
            "class_definition": ("body",),
            "object_definition": ("body",),
            "trait_definition": ("body",),
            "enum_definition": ("body",),
            "package_object": ("body",),
            # each member of an extension is its own 'body' field child
            "extension_definition": (".",),
        },
        "comments": ["comment", "block_comment"],
        "attached_before": [],  # annotation is a child of the definition
        "swallowing": [],
        "doc": "Scaladoc block_comment preceding sibling",
    },
    "lua": {
        "definitions": {
            "function_declaration": "function",
            "function_definition": "function",  # via wrappers only
        },
        "dynamic": {},
        "wrappers": {
            "variable_declaration": "local x = function() end: assignment_statement > "
            "expression_list > field 'value' function_definition",
            "assignment_statement": "M.x = function() end",
        },
        "wrapped_only": ("function_definition",),
        "containers": {},
        "comments": ["comment"],
        "attached_before": [],
        "swallowing": [],
        "doc": "`---`/`--` comment preceding siblings; `local function` is a function_declaration "
        "attached to chunk under field name 'local_declaration'",
    },
    "bash": {
        "definitions": {"function_definition": "function"},
        "dynamic": {},
        "wrappers": {},
        "containers": {},
        "comments": ["comment"],
        "attached_before": [],
        "swallowing": [],
        "doc": "`#` comment preceding sibling",
    },
    "elixir": {
        "definitions": {},
        "dynamic": {
            "call": "field 'target' identifier text in ELIXIR_DEF_KEYWORDS "
            "(def/defp/defmacro/defmodule/defprotocol/defimpl/...)"
        },
        "wrappers": {},
        "containers": {
            "call:defmodule": ("[do_block]",),
            "call:defprotocol": ("[do_block]",),
            "call:defimpl": ("[do_block]",),
        },
        "comments": ["comment"],
        # @doc / @spec / @impl attributes are unary_operator siblings before the def
        "attached_before": ["unary_operator"],
        "swallowing": [],
        "doc": "@doc/@spec are `unary_operator` (operand call target doc/spec) preceding siblings",
    },
    "solidity": {
        "definitions": {
            "contract_declaration": "contract",
            "interface_declaration": "interface",
            "library_declaration": "library",
            "function_definition": "function",
            "modifier_definition": "modifier",
            "constructor_definition": "constructor",
            "fallback_receive_definition": "function",
            "event_definition": "event",
            "error_declaration": "error",
            "struct_declaration": "struct",
            "enum_declaration": "enum",
            "user_defined_type_definition": "type",
        },
        "dynamic": {},
        "wrappers": {},
        "containers": {
            "contract_declaration": ("body",),
            "interface_declaration": ("body",),
            "library_declaration": ("body",),
        },
        "comments": ["comment"],
        "attached_before": [],
        "swallowing": [],
        "doc": "NatSpec `///` / `/** */` are `comment` preceding siblings",
    },
    "zig": {
        "definitions": {"TestDecl": "test"},
        "dynamic": {
            "Decl": "FnProto child -> 'fn'; VarDecl whose value is a ContainerDecl -> "
            "ContainerDeclType keyword (struct/enum/union/opaque); other consts: no"
        },
        "wrappers": {},
        "containers": {
            "Decl": ("[VarDecl]", "[ErrorUnionExpr]", "[SuffixExpr]", "[ContainerDecl]"),
        },
        "comments": ["doc_comment", "line_comment", "container_doc_comment"],
        "attached_before": [],
        "swallowing": [],
        "doc": "`///` doc_comment preceding sibling; its text includes the newline AND the next "
        "line's indentation, so end_point is on the definition's row. `pub` is an "
        "anonymous sibling token OUTSIDE Decl.",
    },
    "elisp": {
        "definitions": {
            "function_definition": "defun",  # real label = keyword token (defun/defsubst)
            "macro_definition": "defmacro",
        },
        "dynamic": {
            "function_definition": "anonymous keyword token text (defun / defsubst)",
            "special_form": "keyword token in defvar/defconst (setq, let, if... are also special_form)",
            "list": "first symbol starts with def / cl-def / define- (cl-defun, defcustom, "
            "define-minor-mode, defalias ...)",
        },
        "wrappers": {},
        "containers": {},
        "comments": ["comment"],
        "attached_before": [],
        "swallowing": [],
        "doc": "docstring is field 'docstring' of function_definition/macro_definition; "
        "`;;;###autoload` / `;;` comments are preceding siblings",
    },
    "ocaml": {
        "definitions": {
            "value_definition": "let",
            "type_definition": "type",
            "module_definition": "module",
            "module_type_definition": "module type",
            "class_definition": "class",
            "class_type_definition": "class type",
            "exception_definition": "exception",
            "external": "external",
            "method_definition": "method",
            "value_specification": "val",
        },
        "dynamic": {},
        "wrappers": {},
        "containers": {
            "module_definition": ("[module_binding]", "body:structure|signature"),
            "module_type_definition": ("body:signature",),
            "class_definition": ("[class_binding]", "body:object_expression"),
        },
        "comments": ["comment"],
        "attached_before": [],
        "swallowing": [],
        "doc": "`(** *)` is a plain `comment`, preceding sibling",
    },
    "vue": {
        "definitions": {
            "template_element": "template",
            "script_element": "script",
            "style_element": "style",
        },
        "dynamic": {},
        "wrappers": {},
        "containers": {},  # script_element > raw_text must be RE-PARSED (ts/js by lang attr)
        "comments": ["comment"],
        "attached_before": [],
        "swallowing": [],
        "doc": "n/a",
    },
    # ---- data languages: a "definition" is a top-level key -----------------------------
    "toml": {
        "definitions": {
            "table": "table",
            "table_array_element": "[[table]]",
            "pair": "key",
        },
        "dynamic": {},
        "wrappers": {},
        "containers": {"table": (".",), "table_array_element": (".",)},
        "comments": ["comment"],
        "attached_before": [],
        # a comment right before [next.table] is the LAST CHILD of the previous table
        "swallowing": ["table", "table_array_element"],
        "doc": "keys are unnamed children (bare_key/dotted_key/quoted_key); table end_point is (next_table_row, 0)",
    },
    "json": {
        "definitions": {"pair": "key"},
        "dynamic": {},
        "wrappers": {},
        "containers": {"pair": ("value:object",)},
        "comments": ["comment"],
        "attached_before": [],
        "swallowing": [],
        "doc": "units = document > object > pair; name = key's string_content",
    },
    "yaml": {
        "definitions": {"block_mapping_pair": "key", "flow_pair": "key"},
        "dynamic": {},
        "wrappers": {},
        "containers": {"block_mapping_pair": ("value:block_node", "[block_mapping]")},
        "comments": ["comment"],
        "attached_before": [],
        "swallowing": [],
        "doc": "units = stream > document(s) > block_node > block_mapping > block_mapping_pair",
    },
}

LANGS["tsx"] = {**LANGS["typescript"], "doc": "same as typescript"}

ELIXIR_DEF_KEYWORDS = {
    "def",
    "defp",
    "defmacro",
    "defmacrop",
    "defguard",
    "defguardp",
    "defdelegate",
    "defn",
    "defnp",
    "defmodule",
    "defprotocol",
    "defimpl",
    "defexception",
    "defstruct",
}
ELIXIR_DOC_ATTRS = {"doc", "spec", "impl", "deprecated", "since", "typedoc"}

# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _t(n) -> str | None:
    return n.text.decode("utf8", "replace") if n is not None else None


def _f(n, field):
    return n.child_by_field_name(field) if n is not None else None


def _first(n, *types):
    if n is None:
        return None
    for c in n.named_children:
        if c.type in types:
            return c
    return None


def _kw(n) -> str | None:
    """First anonymous (keyword) child's text, skipping punctuation like '('."""
    for c in n.children:
        if not c.is_named and any(ch.isalpha() for ch in c.type):
            return c.type
    return None


def last_row(node) -> int:
    """0-based last row that holds non-whitespace text of `node`.

    Several grammars include the trailing newline (rust line_comment, C preproc_*),
    trailing blank lines (toml table, scala indented blocks, kotlin import_list) or even
    the next line's indentation (zig doc_comment) in the node, so end_point.row may be
    the NEXT definition's row. Use this instead of node.end_point.row.
    """
    ep = node.end_point
    if ep.column > 0:
        txt = node.text
        if txt and not txt[-1:].isspace():
            return ep.row
    txt = node.text or b""
    return node.start_point.row + txt.rstrip().count(b"\n")


def resolve_path(node, path):
    """Follow a container path (see module doc)."""
    cur = node
    for step in path:
        if cur is None:
            return None
        if step == ".":
            continue
        if step.startswith("["):
            cur = _first(cur, *step[1:-1].split("|"))
            continue
        field, _, types = step.partition(":")
        cur = cur.child_by_field_name(field)
        if cur is not None and types and cur.type not in types.split("|"):
            return None
    return cur


# --------------------------------------------------------------------------------------
# Wrappers
# --------------------------------------------------------------------------------------

_JS_FN_VALUES = {"arrow_function", "function_expression", "function", "generator_function", "class"}


def _js_declarator_value(node):
    for d in node.named_children:
        if d.type == "variable_declarator":
            v = _f(d, "value")
            if v is not None and v.type in _JS_FN_VALUES:
                return d, v
    return None, None


def unwrap_one(grammar: str, node):
    """If node is a wrapper, return the wrapped definition node (one level), else None."""
    t = node.type
    if t not in LANGS[grammar]["wrappers"]:
        return None
    if grammar == "python":
        return _f(node, "definition")
    if grammar in ("typescript", "tsx", "javascript"):
        if t == "export_statement":
            return _f(node, "declaration") or _f(node, "value")
        if t == "ambient_declaration":
            return node.named_children[0] if node.named_children else None
        if t in ("lexical_declaration", "variable_declaration"):
            return _js_declarator_value(node)[1]
        if t in ("public_field_definition", "field_definition"):
            v = _f(node, "value")
            return v if v is not None and v.type in _JS_FN_VALUES else None
        if t == "expression_statement":
            c = node.named_children[0] if node.named_children else None
            if c is None:
                return None
            if c.type == "internal_module":
                return c
            if c.type == "assignment_expression":
                r = _f(c, "right")
                return r if r is not None and r.type in _JS_FN_VALUES else None
            return None
    if grammar == "cpp" and t == "template_declaration":
        for c in node.named_children:
            if c.type in LANGS["cpp"]["definitions"] or c.type == "template_declaration":
                return c
        return None
    if grammar == "lua":
        a = _first(node, "assignment_statement") if t == "variable_declaration" else node
        el = _first(a, "expression_list")
        v = _f(el, "value") if el is not None else None
        return v if v is not None and v.type == "function_definition" else None
    if grammar == "php" and t == "expression_statement":
        a = _first(node, "assignment_expression")
        r = _f(a, "right") if a is not None else None
        return r if r is not None and r.type in ("anonymous_function", "arrow_function") else None
    return None


def unwrap(grammar: str, node):
    """Innermost definition node (node itself if not a wrapper; None if a wrapper of nothing)."""
    while node is not None and node.type in LANGS[grammar]["wrappers"]:
        node = unwrap_one(grammar, node)
    return node


# --------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------


def _dynamic_label(grammar, n):
    t = n.type
    if grammar in ("c", "cpp") and t in ("declaration", "field_declaration"):
        return "function" if _c_function_declarator(n) is not None else None
    if grammar == "go" and t == "type_declaration":
        specs = [c for c in n.named_children if c.type in ("type_spec", "type_alias")]
        if len(specs) == 1 and specs[0].type == "type_spec":
            ty = _f(specs[0], "type")
            if ty is not None and ty.type == "struct_type":
                return "struct"
            if ty is not None and ty.type == "interface_type":
                return "interface"
        return "type"
    if grammar == "kotlin" and t == "class_declaration":
        kws = [c.type for c in n.children if not c.is_named]
        if "interface" in kws:
            return "fun interface" if "fun" in kws else "interface"
        if "enum" in kws or _first(n, "enum_class_body") is not None:
            return "enum class"
        return "class"
    if grammar == "swift":
        if t == "class_declaration":
            k = _f(n, "declaration_kind")
            return k.type if k is not None else "class"
        if t == "property_declaration":
            return "var" if _f(n, "computed_value") is not None else None
    if grammar == "elixir" and t == "call":
        tg = _f(n, "target")
        if tg is not None and tg.type == "identifier" and _t(tg) in ELIXIR_DEF_KEYWORDS:
            return _t(tg)
        return None
    if grammar == "zig" and t == "Decl":
        if _first(n, "FnProto") is not None:
            return "fn"
        cd = resolve_path(n, LANGS["zig"]["containers"]["Decl"])
        if cd is not None:
            ct = _first(cd, "ContainerDeclType")
            word = _t(ct) if ct is not None else "struct"
            return word.split("(")[0].strip()
        return None
    if grammar == "elisp":
        if t in ("function_definition", "macro_definition"):
            return _kw(n)
        if t == "special_form":
            k = _kw(n)
            return k if k in ("defvar", "defconst", "defvar-local") else None
        if t == "list":
            s = _first(n, "symbol")
            if s is not None and s == n.named_children[0]:
                w = _t(s)
                if w.startswith(("def", "cl-def", "define-", "ert-deftest")):
                    return w
        return None
    return LANGS[grammar]["definitions"].get(t)


def def_label(grammar: str, node) -> str | None:
    """Breadcrumb keyword if `node` (possibly a wrapper) is a definition, else None."""
    inner = unwrap(grammar, node)
    if inner is None:
        return None
    L = LANGS[grammar]
    if inner is node and node.type in L.get("wrapped_only", ()):
        return None  # a bare arrow_function/function_expression/... is not a definition
    if inner.type in L["dynamic"]:
        return _dynamic_label(grammar, inner)
    lab = L["definitions"].get(inner.type)
    if lab is None:
        return None
    # refinements
    if (
        grammar == "scala"
        and inner.type == "class_definition"
        and "case" in [c.type for c in inner.children if not c.is_named]
    ):
        return "case class"
    if (
        grammar == "ocaml"
        and inner.type == "value_definition"
        and "rec" in [c.type for c in inner.children if not c.is_named]
    ):
        return "let rec"
    if (
        grammar == "lua"
        and node.type == "function_declaration"
        and "local" in [c.type for c in node.children if not c.is_named]
    ):
        return "local function"
    if grammar == "solidity" and inner.type == "fallback_receive_definition":
        return _kw(inner) or lab
    return lab


# --------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------

_C_NAME_TYPES = {
    "identifier",
    "field_identifier",
    "qualified_identifier",
    "destructor_name",
    "operator_name",
    "type_identifier",
    "operator_cast",
    "template_function",
    "namespace_identifier",
}


def _c_function_declarator(node):
    """A C/C++ declaration's function_declarator (``int *f(void);``: under the pointer), or None
    (a variable, a function pointer ``int (*f)(void);``)."""
    n = _f(node, "declarator")
    while n is not None and n.type in ("pointer_declarator", "reference_declarator"):
        n = _f(n, "declarator") or next((c for c in n.named_children if c.type.endswith("declarator")), None)
    if n is None or n.type != "function_declarator":
        return None
    inner = _f(n, "declarator")
    return None if inner is not None and inner.type == "parenthesized_declarator" else n


def c_declarator_name(decl) -> str | None:
    """C/C++: walk declarator -> (pointer/reference/parenthesized/function_declarator)* -> name."""
    n = decl
    for _ in range(32):
        if n is None:
            return None
        if n.type in _C_NAME_TYPES:
            s = _t(n)
            if n.type == "operator_cast" or ("operator" in s and "(" in s):
                s = s.split("(")[0].strip()
            return s
        nxt = _f(n, "declarator")
        if nxt is None:  # reference_declarator / parenthesized_declarator: unnamed child
            nxt = next(
                (
                    c
                    for c in n.named_children
                    if c.type
                    not in ("type_qualifier", "parameter_list", "attribute_specifier", "ms_pointer_modifier", "ERROR")
                ),
                None,
            )
        n = nxt
    return None


def _go_receiver_type(n):
    r = _f(n, "receiver")
    p = _first(r, "parameter_declaration") if r is not None else None
    ty = _f(p, "type") if p is not None else None
    while ty is not None and ty.type in ("pointer_type", "generic_type", "parenthesized_type"):
        ty = _f(ty, "type") or (ty.named_children[0] if ty.named_children else None)
    return _t(ty)


def _elixir_name(n, kw):
    args = _first(n, "arguments")
    if args is None or not args.named_children:
        return None
    a = args.named_children[0]
    if kw == "defstruct":
        return None  # the struct is named after the enclosing module
    if kw == "defimpl":
        forc = None
        kwds = _first(args, "keywords")
        if kwds is not None:
            for p in kwds.named_children:
                if _t(_f(p, "key")).strip().rstrip(":").strip() == "for":
                    forc = _t(_f(p, "value"))
        return f"{_t(a)} for {forc}" if forc else _t(a)
    if a.type == "binary_operator":  # def f(x) when guard
        a = _f(a, "left")
    if a.type == "call":
        tg = _f(a, "target")
        return _t(tg)
    return _t(a)  # identifier (zero-arity), alias (module)


def _name_generic(n):
    nm = _f(n, "name")
    return _t(nm)


def _inner_name(grammar: str, n) -> str | None:
    t = n.type
    g = grammar
    if g == "python":
        return _t(_f(n, "name"))
    if g in ("typescript", "tsx", "javascript"):
        nm = _f(n, "name")
        return _t(nm)
    if g == "go":
        if t == "type_declaration":
            names = [_t(_f(c, "name")) for c in n.named_children if c.type in ("type_spec", "type_alias")]
            return ", ".join(x for x in names if x)
        if t == "method_declaration":
            rt = _go_receiver_type(n)
            return f"{rt}.{_t(_f(n, 'name'))}" if rt else _t(_f(n, "name"))
        return _t(_f(n, "name"))
    if g == "rust":
        if t == "impl_item":
            ty, tr = _t(_f(n, "type")), _t(_f(n, "trait"))
            return f"{tr} for {ty}" if tr else ty
        if t == "foreign_mod_item":
            return None
        return _t(_f(n, "name"))
    if g in ("c", "cpp"):
        if t == "function_definition":
            return c_declarator_name(_f(n, "declarator"))
        if t in ("declaration", "field_declaration"):  # a prototype
            return c_declarator_name(_c_function_declarator(n))
        if t == "type_definition":
            return ", ".join(filter(None, (c_declarator_name(d) for d in n.children_by_field_name("declarator"))))
        if t == "preproc_if":
            return _t(_f(n, "condition"))
        if t == "linkage_specification":
            return _t(_f(n, "value"))
        return _t(_f(n, "name"))  # struct/class/enum/namespace (anonymous -> None)
    if g == "csharp":
        if t == "operator_declaration":
            return "operator " + (_t(_f(n, "operator")) or "")
        if t == "conversion_operator_declaration":
            return "operator " + (_t(_f(n, "type")) or "")
        if t == "indexer_declaration":
            return "this[]"
        return _t(_f(n, "name"))
    if g == "ruby":
        if t == "singleton_method":
            return f"{_t(_f(n, 'object'))}.{_t(_f(n, 'name'))}"
        if t == "singleton_class":
            return _t(_f(n, "value"))
        return _t(_f(n, "name"))
    if g == "php":
        return _t(_f(n, "name"))
    if g == "kotlin":
        if t == "function_declaration":
            return _t(_first(n, "simple_identifier"))
        if t == "companion_object":
            return _t(_first(n, "type_identifier")) or "Companion"
        if t in ("secondary_constructor", "anonymous_initializer"):
            return None
        return _t(_first(n, "type_identifier"))
    if g == "swift":
        if t in ("init_declaration", "deinit_declaration", "subscript_declaration"):
            return t.split("_")[0]
        if t == "property_declaration":
            return _t(_f(n, "name"))
        return _t(_f(n, "name"))
    if g == "scala":
        if t == "given_definition":
            return _t(_f(n, "name")) or _t(_f(n, "return_type"))
        if t == "extension_definition":
            return _t(_f(n, "parameters"))
        return _t(_f(n, "name"))
    if g == "lua":
        return _t(_f(n, "name"))
    if g == "bash":
        return _t(_f(n, "name"))
    if g == "elixir":
        return _elixir_name(n, _t(_f(n, "target")))
    if g == "solidity":
        if t == "constructor_definition":
            return "constructor"
        if t == "fallback_receive_definition":
            return _kw(n)
        return _t(_f(n, "name"))
    if g == "zig":
        if t == "TestDecl":
            s = _first(n, "STRINGLITERALSINGLE", "IDENTIFIER")
            return _t(s).strip('"') if s is not None else None
        fp = _first(n, "FnProto")
        if fp is not None:
            return _t(_f(fp, "function"))
        vd = _first(n, "VarDecl")
        return _t(_f(vd, "variable_type_function")) if vd is not None else None
    if g == "elisp":
        nm = _f(n, "name")
        if nm is not None:
            return _t(nm)
        if t == "special_form":
            return _t(_first(n, "symbol"))
        if t == "list" and len(n.named_children) > 1:
            s = n.named_children[1]
            txt = _t(s)
            return txt.lstrip("'") if s.type != "special_form" else txt.strip("()").replace("quote ", "")
        return None
    if g == "ocaml":
        if t == "value_definition":
            names = [_t(_f(b, "pattern")) for b in n.named_children if b.type == "let_binding"]
            return " and ".join(x for x in names if x)
        if t == "type_definition":
            names = [_t(_f(b, "name")) for b in n.named_children if b.type == "type_binding"]
            return " and ".join(x for x in names if x)
        if t == "module_definition":
            return _t(_first(_first(n, "module_binding"), "module_name"))
        if t == "module_type_definition":
            return _t(_first(n, "module_type_name"))
        if t == "class_definition":
            return _t(_first(_first(n, "class_binding"), "class_name"))
        if t == "class_type_definition":
            return _t(_first(_first(n, "class_type_binding"), "class_type_name"))
        if t == "exception_definition":
            return _t(_first(_first(n, "constructor_declaration"), "constructor_name"))
        if t in ("external", "value_specification"):
            return _t(_first(n, "value_name"))
        if t == "method_definition":
            return _t(_first(n, "method_name"))
        return _t(_f(n, "name"))
    if g == "vue":
        st = _first(n, "start_tag")
        attrs = []
        for a in st.named_children if st is not None else []:
            if a.type == "attribute":
                attrs.append(_t(a))
        return " ".join(attrs) or None
    if g == "toml":
        if t == "pair" or t in ("table", "table_array_element"):
            k = _first(n, "bare_key", "dotted_key", "quoted_key")
            return _t(k)
    if g == "json":
        k = _f(n, "key")
        sc = _first(k, "string_content")
        return _t(sc) if sc is not None else _t(k)
    if g == "yaml":
        k = _f(n, "key")
        return _t(k).strip("'\"") if k is not None else None
    return _name_generic(n)


def def_name(grammar: str, node) -> str | None:
    """Name of a definition node (wrappers accepted). Qualified as written in the source
    (Go methods get 'Recv.Name', rust impls 'Trait for Type', C++ 'Cls::meth', lua 'M.f')."""
    n = node
    while n is not None and n.type in LANGS[grammar]["wrappers"]:
        t = n.type
        if grammar in ("typescript", "tsx", "javascript"):
            if t in ("lexical_declaration", "variable_declaration"):
                d, _v = _js_declarator_value(n)
                return _t(_f(d, "name")) if d is not None else None
            if t in ("public_field_definition", "field_definition"):
                return _t(_f(n, "name") or _f(n, "property"))
            if t == "expression_statement":
                c = n.named_children[0] if n.named_children else None
                if c is not None and c.type == "assignment_expression":
                    return _t(_f(c, "left"))
            if t == "export_statement":
                inner = unwrap_one(grammar, n)
                if inner is None:
                    return None
                is_default = any(c.type == "default" for c in n.children)
                nm = def_name(grammar, inner)
                return nm if nm else ("default" if is_default else None)
        if grammar == "lua" and t in ("variable_declaration", "assignment_statement"):
            a = _first(n, "assignment_statement") if t == "variable_declaration" else n
            vl = _first(a, "variable_list")
            return _t(_f(vl, "name")) if vl is not None else None
        if grammar == "php" and t == "expression_statement":
            a = _first(n, "assignment_expression")
            return _t(_f(a, "left")) if a is not None else None
        n = unwrap_one(grammar, n)
    if n is None:
        return None
    return _inner_name(grammar, n)


# --------------------------------------------------------------------------------------
# Bodies / members / doc attachment
# --------------------------------------------------------------------------------------


def def_body(grammar: str, node):
    """Node whose (named) children are the members of a container definition, else None."""
    inner = unwrap(grammar, node)
    if inner is None:
        return None
    C = LANGS[grammar]["containers"]
    lab = def_label(grammar, inner)
    path = C.get(f"{inner.type}:{lab}")
    if path is None:
        if any(k.startswith(inner.type + ":") for k in C):
            return None  # label-qualified container type, this label is not a container
        path = C.get(inner.type)
    if path is None:
        return None
    return resolve_path(inner, path)


def _is_attached_kind(grammar, n):
    L = LANGS[grammar]
    if n.type in L["comments"]:
        return True
    if n.type in L["attached_before"]:
        if grammar == "elixir":  # only @doc/@spec/@impl..., not @moduledoc or @attr value
            op = _f(n, "operand")
            tg = _f(op, "target") if op is not None else None
            return tg is not None and _t(tg) in ELIXIR_DOC_ATTRS
        return True
    return False


def _is_trailing(n):
    """Comment that sits on the same line as the previous code (`x = 1  # note`)."""
    p = n.prev_sibling
    if p is None and n.parent is not None:
        p = n.parent.prev_sibling
    # last_row: a line comment's node ends at the start of the next line (it holds the newline)
    return p is not None and last_row(p) == n.start_point.row


def leading_start_row(grammar: str, node) -> int:
    """0-based first row of `node` including contiguous (no blank line) doc comments and
    sibling attributes/decorators before it; in C/C++ a Doxygen comment one blank line above."""
    start = node.start_point.row
    prev = node.prev_named_sibling
    if prev is None and node.parent is not None:
        # ruby: the first member's comment is a sibling of the body node, not inside it
        par = node.parent
        if par.prev_named_sibling is not None and par.prev_named_sibling.type in LANGS[grammar]["comments"]:
            prev = par.prev_named_sibling
    first = True
    while prev is not None:
        gap = 2 if first and _c_doc_comment(grammar, prev) else 1  # `/** ... */`, a blank line, `int f(void);`
        if _is_attached_kind(grammar, prev) and last_row(prev) >= start - gap and not _is_trailing(prev):
            start = prev.start_point.row
            prev = prev.prev_named_sibling
            first = False
            continue
        if prev.type in LANGS[grammar]["swallowing"] and prev.named_children:
            last = prev.named_children[-1]
            while (
                last.type not in LANGS[grammar]["comments"]
                and last.named_children
                and last.type in LANGS[grammar]["swallowing"]
            ):
                last = last.named_children[-1]
            if last.type in LANGS[grammar]["comments"] and last_row(last) >= start - 1:
                start = last.start_point.row
        break
    return start


def _c_error_prototype(grammar: str, node) -> str | None:
    """The name of a C/C++ prototype the grammar could not parse, or None: attribute macros
    after the parameters (``LZMA_API(int) f(void) lzma_nothrow;``) make it an ERROR node that
    holds one function_declarator and no body."""
    if grammar not in ("c", "cpp"):
        return None
    kinds = [c.type for c in node.named_children]
    if kinds.count("function_declarator") != 1 or any(
        k in ("compound_statement", "declaration", "function_definition", "ERROR") for k in kinds
    ):
        return None
    return c_declarator_name(next(c for c in node.named_children if c.type == "function_declarator"))


def _c_doc_comment(grammar: str, node) -> bool:
    """A C/C++ Doxygen comment (``/**``, ``/*!``, ``///``, ``//!``): headers often leave a blank
    line between it and the declaration it documents."""
    return grammar in ("c", "cpp") and node.type == "comment" and node.text[:3] in (b"/**", b"/*!", b"///", b"//!")


def members(grammar: str, parent):
    """Yield (node, label, name) for the definitions among parent's named children.
    ERROR nodes are descended into transparently (kotlin wraps members of one-line class
    bodies in ERROR, e.g. `class A { val y = 1 }`)."""
    for c in parent.named_children:
        if c.type == "ERROR":
            name = _c_error_prototype(grammar, c)
            if name is not None:
                yield c, "function", name
                continue
            yield from members(grammar, c)
            continue
        lab = def_label(grammar, c)
        if lab is not None:
            yield c, lab, def_name(grammar, c)


def unit_parents(grammar: str, root):
    """Nodes whose children are the top-level units (root for code; data langs descend)."""
    if grammar == "json":
        return [c for c in root.named_children if c.type == "object"]
    if grammar == "yaml":
        out = []
        for d in root.named_children:
            if d.type != "document":
                continue
            for bn in d.named_children:
                m = _first(bn, "block_mapping", "flow_mapping") if bn.type in ("block_node", "flow_node") else None
                if m is not None:
                    out.append(m)
        return out
    return [root]


def vue_script_language(script_element) -> str:
    st = _first(script_element, "start_tag")
    for a in st.named_children if st is not None else []:
        if a.type == "attribute" and _t(_first(a, "attribute_name")) == "lang":
            v = _t(_first(a, "quoted_attribute_value", "attribute_value")).strip("'\"")
            return {"ts": "typescript", "tsx": "tsx", "js": "javascript", "jsx": "javascript"}.get(v, "javascript")
    return "javascript"
