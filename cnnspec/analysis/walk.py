"""The analysis: one walk over the spec tree, producing plain records.

Room: analysis; imports spec, conventions and errors, never NumPy or the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnnspec.analysis import counts
from cnnspec.analysis.block_walk import BlockVisitors
from cnnspec.analysis.channel_walk import ChannelVisitors
from cnnspec.analysis.receptive import Field, next_field, whole_input_field
from cnnspec.analysis.records import LayerRecord, Note, Shape, listed, pair_text, shape_text
from cnnspec.analysis.shapes import OutputSize, SizeError, conv_output_size, same_padding
from cnnspec.conventions import Conventions, Rounding
from cnnspec.errors import AnalysisError, Location
from cnnspec.spec import blocks, layers
from cnnspec.spec.activation_table import BY_KIND as ACTIVATION_ENTRIES
from cnnspec.spec.activation_table import settings_text


def floors_by_design(conventions: Conventions) -> bool:
    """True when the preset rounds sizes as its framework does (pytorch, keras, caffe) and
    the spec keeps that rule; ``lecture`` and explicit overrides keep a note per layer."""
    from cnnspec.conventions import preset

    if conventions.preset not in ("pytorch", "keras", "caffe"):
        return False
    own = preset(conventions.preset)
    return (conventions.rounding, conventions.pool_rounding) == (own.rounding, own.pool_rounding)


def rounding_note(conventions: Conventions, names: list[str]) -> Note:
    """The one note saying which layers the preset rounded, by design."""
    pool = (conventions.pool_rounding or conventions.rounding).value
    shown = listed(names)
    return Note(None, f"{len(names):,} layer{'s' if len(names) != 1 else ''} with a non-whole "
                f"output size rounded as {conventions.preset} does by design (conv "
                f"{conventions.rounding.value}, pool {pool}): {shown}", "rounding")


@dataclass
class WalkState:
    """Where the walk is: the data's shape and its receptive field per axis."""

    shape: Shape
    rf_h: Field
    rf_w: Field


@dataclass
class Walker(BlockVisitors, ChannelVisitors):
    conventions: Conventions
    rows: list[LayerRecord] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    main: bool = True
    sizes: dict[tuple[Any, ...], tuple[OutputSize, str]] = field(default_factory=dict)
    rounded: list[str] = field(default_factory=list)  # rows rounded under a flooring preset
    node_rows: dict[int, list[LayerRecord]] = field(default_factory=dict)  # id(node) -> its rows

    # -- helpers -----------------------------------------------------------------------------
    def auto_name(self, node: layers.Node) -> str:
        """The row name: the user's label, else ``Type:n``; a repeated label gets ``#k``.

        Names are unique within a report, so they can key parameters and checkpoints.
        """
        if node.label:
            seen = self.counters.get("#" + node.label, 0) + 1
            self.counters["#" + node.label] = seen
            return node.label if seen == 1 else f"{node.label}#{seen}"
        display = node.type_name
        self.counters[display] = self.counters.get(display, 0) + 1
        return f"{display}:{self.counters[display]}"

    def block_name(self, node: layers.Node, display: str) -> str:
        """A block row's name: its label (``#k`` on a repeat, as for layers), else ``Type:n``."""
        if node.label:
            return self.auto_name(node)
        return f"{display}:{self._count(display)}"

    def where(self, node: layers.Node, arg: str | None = None) -> Location | None:
        ref = node.source
        if ref is None:
            return None
        return ref.arg(arg) if arg else ref.loc

    def fail(self, node: layers.Node, name: str, message: str, hint: str,
             arg: str | None = None) -> AnalysisError:
        return AnalysisError(f"{name}: {message}", self.where(node, arg), hint)

    def add_row(self, node: layers.Node, name: str, path: str, depth: int, state: WalkState,
                out: Shape, rf: tuple[Field, Field], *, hyper: str = "", weights: int = 0,
                biases: int = 0, non_trainable: int = 0, macs: int = 0,
                formulas: dict[str, str] | None = None, kind: str | None = None,
                type_name: str | None = None) -> WalkState:
        nodes = counts.nodes(out)
        params = weights + biases + non_trainable
        if self.conventions.macs == "torchinfo":
            macs = self.torchinfo_macs(kind or getattr(node, "kind", "layer"), out,
                                       weights + biases, formulas)
        row = LayerRecord(
            index=len(self.rows), path=path, depth=depth, name=name,
            kind=kind or getattr(node, "kind", "layer"), type=type_name or node.type_name,
            hyper=hyper, input=state.shape, output=out, nodes=nodes, weights=weights,
            biases=biases, params=params, trainable=weights + biases,
            non_trainable=non_trainable, macs=macs, rf_size=(rf[0].size, rf[1].size),
            rf_jump=(rf[0].jump, rf[1].jump),
            activation_bytes=nodes * self.conventions.bytes_per_value,
            main=self.main, formulas=formulas or {},
        )
        self.rows.append(row)
        self.node_rows.setdefault(id(node), []).append(row)
        return WalkState(out, rf[0], rf[1])

    def torchinfo_macs(self, kind: str, out: Shape, trainable: int,
                       formulas: dict[str, str] | None) -> int:
        """A leaf's MACs under ``macs: torchinfo`` (see :func:`counts.torchinfo_macs`)."""
        per_position = kind in ("conv", "table_conv") and len(out) == 3
        positions = out[0] * out[1] if per_position else 1
        macs = counts.torchinfo_macs(trainable, positions)
        if formulas is not None and trainable:
            formulas["macs"] = (f"{trainable:,}*{out[0]}*{out[1]} = {macs:,}" if per_position
                                else f"{trainable:,} parameters, once each = {macs:,}")
        return macs

    def spatial(self, node: layers.Node, name: str, shape: Shape) -> tuple[int, int, int]:
        if len(shape) != 3:
            raise self.fail(
                node, name,
                f"{node.type_name} needs an H x W x C volume but gets a flat vector of "
                f"{shape[0]:,} values",
                "move it before the first FC/Flatten layer",
            )
        return shape  # type: ignore[return-value]

    def size(self, node: layers.Node, name: str, axis: str, n: int, f: int, s: int,
             p: int | tuple[int, int], d: int, rounding: Rounding, arg: str) -> tuple[int, str]:
        key = (n, f, s, p, d, rounding)
        known = self.sizes.get(key)
        if known is None:  # repeated layers ask the same sizes again: each once per walk
            try:
                result = conv_output_size(n, f, s, p, d, rounding)
            except SizeError as exc:
                where = self.where(node, arg)
                hint = exc.hint_for(from_file=where is not None
                                    and not where.source.startswith("<"))
                raise AnalysisError(f"{name}: {axis}: {exc.message}", where, hint) from None
            text = f"{result.arithmetic} = {result.exact_text}"
            if result.rounded:
                text += f" -> {result.size} ({rounding.value})"
            known = self.sizes[key] = (result, text)
        result, text = known
        if result.rounded:
            if floors_by_design(self.conventions):  # said once for the network, not per row
                if not self.rounded or self.rounded[-1] != name:
                    self.rounded.append(name)
                return result.size, text
            message = (f"{result.arithmetic} = {result.exact_text} is not a whole number; "
                       f"{rounding.value} gives {result.size}; strict rounding (the rule of the "
                       f"lecture notes) would reject this layer")
            previous = self.notes[-1] if self.notes else None
            if previous is not None and previous.layer == name and previous.message.endswith(
                    message):
                self.notes[-1] = Note(name, f"height and width: {message}", "rounding")
            else:
                self.notes.append(Note(name, f"{axis}: {message}", "rounding"))
        return result.size, text

    # -- the walk ------------------------------------------------------------------------
    def nodes(self, items: list[Any], state: WalkState, path: str, depth: int) -> WalkState:
        for i, node in enumerate(items, start=1):
            state = self.node(node, state, f"{path}{i}" if not path else f"{path}.{i}", depth)
        return state

    def node(self, node: Any, state: WalkState, path: str, depth: int) -> WalkState:
        method = getattr(self, f"visit_{node.kind}", None)
        if method is None and node.kind in ACTIVATION_ENTRIES:
            method = self.visit_activation
        if method is None:  # pragma: no cover - every kind of the union has a visitor
            raise AnalysisError(f"no analysis for layer kind {node.kind!r}", self.where(node))
        return method(node, state, path, depth)

    def block(self, node: Any, state: WalkState, path: str, depth: int, name: str,
              run, hyper: str = "", type_name: str | None = None) -> WalkState:
        """Add a block row summing the rows ``run`` adds under it.

        A block of the main network sums only its main rows, so that the rows shown
        at any ``--depth`` add up to the totals; a block holding nothing but an
        auxiliary head is itself auxiliary.
        """
        at = len(self.rows)
        start_shape = state.shape
        out_state = run()
        leaves = [r for r in self.rows[at:] if not r.is_block]
        children = [r for r in leaves if r.main] if self.main else leaves
        main = self.main
        if main and leaves and not children:
            children, main = leaves, False
        nodes = weights = biases = params = trainable = non_trainable = macs = act = 0
        for r in children:  # one pass: blocks nest, so this runs once per ancestor of a row
            nodes += r.nodes
            weights += r.weights
            biases += r.biases
            params += r.params
            trainable += r.trainable
            non_trainable += r.non_trainable
            macs += r.macs
            act += r.activation_bytes
        row = LayerRecord(
            index=at, path=path, depth=depth, name=name, kind=node.kind,
            type=type_name or node.type_name, hyper=hyper, input=start_shape,
            output=out_state.shape, nodes=nodes, weights=weights, biases=biases, params=params,
            trainable=trainable, non_trainable=non_trainable, macs=macs,
            rf_size=(out_state.rf_h.size, out_state.rf_w.size),
            rf_jump=(out_state.rf_h.jump, out_state.rf_w.jump),
            activation_bytes=act, is_block=True, main=main,
        )
        self.rows.insert(at, row)
        self.node_rows.setdefault(id(node), []).append(row)
        return out_state

    def visit_sequence(self, node: blocks.Sequence, state: WalkState, path: str, depth: int):
        if node.repeat == 1 and not node.label:
            return self._flat(node.layers, state, path, depth)
        name = self.block_name(node, "Group")

        def run() -> WalkState:
            current = state
            for r in range(node.repeat):
                current = self.nodes(node.layers, current, f"{path}.{r + 1}" if node.repeat > 1
                                     else path, depth + 1)
            return current

        return self.block(node, state, path, depth, name, run,
                          hyper=f"x{node.repeat}" if node.repeat > 1 else "")

    def _flat(self, items: list[Any], state: WalkState, path: str, depth: int) -> WalkState:
        for i, child in enumerate(items, start=1):
            state = self.node(child, state, f"{path}.{i}", depth)
        return state

    def _count(self, display: str) -> int:
        self.counters[display] = self.counters.get(display, 0) + 1
        return self.counters[display]

    def visit_residual(self, node: blocks.Residual, state: WalkState, path: str, depth: int):
        name = self.block_name(node, "Residual")

        def run() -> WalkState:
            body = self._flat(node.body, state, f"{path}.body", depth + 1)
            skip = self._flat(node.shortcut, state, f"{path}.skip", depth + 1) \
                if node.shortcut else state
            if body.shape != skip.shape:
                raise AnalysisError(
                    f"{name}: cannot add the residual branch's {shape_text(body.shape)} to the "
                    f"shortcut's {shape_text(skip.shape)}",
                    self.where(node),
                    f"give the shortcut a projection, e.g. shortcut: [Conv(1x1, "
                    f"{body.shape[-1]}, s=STRIDE), BN]",
                )
            rf = (max(body.rf_h, skip.rf_h), max(body.rf_w, skip.rf_w))
            add = layers.Node(written="Add")
            return self.add_row(add, f"{name}.add", f"{path}.add", depth + 1, body, body.shape,
                                rf, hyper="y = F(x) + x", kind="add", type_name="Add")

        return self.block(node, state, path, depth, name, run)

    def visit_concat(self, node: blocks.Concat, state: WalkState, path: str, depth: int):
        display = node.type_name
        name = self.block_name(node, display)
        if not node.branches:
            raise AnalysisError(
                f"{name}: {display} has no branches, so its output cannot be known",
                self.where(node),
                "give its branches in YAML: `- concat: {branches: [Conv(1x1,64), ...]}` "
                "or write the module out",
            )

        def run() -> WalkState:
            outs = []
            for b, branch in enumerate(node.branches, start=1):
                outs.append(self._flat(branch, state, f"{path}.b{b}", depth + 1)
                            if branch else state)
            first = outs[0].shape
            for b, out in enumerate(outs, start=1):
                if len(out.shape) != 3 or out.shape[:2] != first[:2]:
                    raise AnalysisError(
                        f"{name}: branch {b} ends at {shape_text(out.shape)} but branch 1 ends at "
                        f"{shape_text(first)}; concatenation needs equal H x W",
                        self.where(node),
                        f"change branch {b}'s stride or padding so its output is "
                        f"{first[0]}x{first[1]}",
                    )
            channels = sum(o.shape[2] for o in outs)
            rf = (max(o.rf_h for o in outs), max(o.rf_w for o in outs))
            cat = layers.Node(written="Concat")
            sizes = " + ".join(str(o.shape[2]) for o in outs)
            return self.add_row(cat, f"{name}.concat", f"{path}.cat", depth + 1, outs[0],
                                (first[0], first[1], channels), rf, hyper=f"C = {sizes}",
                                kind="concat_merge", type_name="Concat")

        return self.block(node, state, path, depth, name, run)

    def visit_aux(self, node: blocks.Aux, state: WalkState, path: str, depth: int):
        name = self.block_name(node, "AuxHead")
        was_main = self.main
        self.main = False
        try:
            self.block(node, state, path, depth, name,
                       lambda: self._flat(node.layers, state, path, depth + 1))
        finally:
            self.main = was_main
        return state

    def visit_conv(self, node: layers.Conv, state: WalkState, path: str, depth: int):
        name = self.auto_name(node)
        h, w, c = self.spatial(node, name, state.shape)
        assert node.kernel is not None and node.filters is not None  # require_sizes checked
        fh, fw = node.kernel
        sh, sw = node.stride
        dh, dw = node.dilation
        if node.in_channels is not None and node.in_channels != c:
            raise self.fail(node, name, f"the filter is written with depth {node.in_channels} but "
                            f"the input has {c} channels",
                            f"a filter spans the full input depth: write {fh}x{fw}x{c}", "kernel")
        if c % node.groups or node.filters % node.groups:
            raise self.fail(node, name, f"groups={node.groups} must divide both the input "
                            f"channels ({c}) and the filters ({node.filters})",
                            "pick a groups value that divides both", "groups")
        if node.padding == "same":
            ph, pw = same_padding(h, fh, sh, dh), same_padding(w, fw, sw, dw)
        elif node.padding == "valid":
            ph, pw = (0, 0), (0, 0)
        else:
            ph, pw = (node.padding[0],) * 2, (node.padding[1],) * 2
        rounding = self.conventions.rounding_for("conv")
        oh, th = self.size(node, name, "height", h, fh, sh, ph, dh, rounding, "stride")
        ow, tw = self.size(node, name, "width", w, fw, sw, pw, dw, rounding, "stride")
        bias = self.conventions.conv_bias if node.bias is None else node.bias
        k = node.filters
        weights = counts.conv_weights(fh, fw, c, k, node.groups)
        biases = k if bias else 0
        macs = counts.conv_macs(oh, ow, k, fh, fw, c, node.groups)
        cg = c // node.groups
        depth_text = f"{c}/{node.groups}" if node.groups > 1 else str(c)
        formulas = {
            "output": th if th == tw else f"H: {th}; W: {tw}",
            "params": f"({fh}*{fw}*{depth_text}{' + 1' if bias else ''})*{k} = "
                      f"{weights + biases:,}",
            "macs": f"{oh}*{ow}*{k}*{fh}*{fw}*{cg} = {macs:,}",
            "nodes": f"{oh}*{ow}*{k} = {oh * ow * k:,}",
        }
        pad_text = node.padding if isinstance(node.padding, str) else (
            pair_text((ph[0], pw[0])))
        hyper = f"{fh}x{fw}x{c}, {k}, s={pair_text((sh, sw))}, p={pad_text}"
        if (dh, dw) != (1, 1):
            hyper += f", d={pair_text((dh, dw))}"
        if node.groups > 1:
            hyper += f", g={node.groups}"
        if not bias:
            hyper += ", no bias"
        rf = (next_field(state.rf_h, fh, sh, dh), next_field(state.rf_w, fw, sw, dw))
        return self.add_row(node, name, path, depth, state, (oh, ow, k), rf, hyper=hyper,
                            weights=weights, biases=biases, macs=macs, formulas=formulas)

    def visit_pool(self, node: layers.Pool, state: WalkState, path: str, depth: int):
        name = self.auto_name(node)
        h, w, c = self.spatial(node, name, state.shape)
        assert node.kernel is not None
        fh, fw = node.kernel
        sh, sw = node.stride or node.kernel
        ph, pw = node.padding
        if node.ceil_mode is None:
            rounding = self.conventions.rounding_for("pool")
        else:
            rounding = Rounding.CEIL if node.ceil_mode else Rounding.FLOOR
        oh, th = self.size(node, name, "height", h, fh, sh, ph, 1, rounding, "stride")
        ow, tw = self.size(node, name, "width", w, fw, sw, pw, 1, rounding, "stride")
        rf = (next_field(state.rf_h, fh, sh), next_field(state.rf_w, fw, sw))
        hyper = f"{node.mode} {fh}x{fw}, s={pair_text((sh, sw))}"
        if (ph, pw) != (0, 0):
            hyper += f", p={pair_text((ph, pw))}"
        formulas = {"output": th if th == tw else f"H: {th}; W: {tw}",
                    "params": "pooling has no weights = 0", "nodes": f"{oh}*{ow}*{c} = {oh*ow*c:,}"}
        return self.add_row(node, name, path, depth, state, (oh, ow, c), rf, hyper=hyper,
                            formulas=formulas)

    def visit_subsample(self, node: layers.Subsample, state: WalkState, path: str, depth: int):
        name = self.auto_name(node)
        h, w, c = self.spatial(node, name, state.shape)
        fh, fw = node.kernel
        sh, sw = node.stride or node.kernel
        rounding = self.conventions.rounding_for("conv")  # a weighted layer, not Caffe pooling
        oh, th = self.size(node, name, "height", h, fh, sh, 0, 1, rounding, "stride")
        ow, _ = self.size(node, name, "width", w, fw, sw, 0, 1, rounding, "stride")
        rf = (next_field(state.rf_h, fh, sh), next_field(state.rf_w, fw, sw))
        formulas = {"output": th, "params": f"(1 + 1)*{c} = {2 * c}",
                    "macs": f"{oh}*{ow}*{c} = {oh * ow * c:,}"}
        return self.add_row(node, name, path, depth, state, (oh, ow, c), rf,
                            hyper=f"w*sum({fh}x{fw}) + b, s={sh}", weights=c, biases=c,
                            macs=oh * ow * c, formulas=formulas)

    def visit_global_pool(self, node: layers.GlobalPool, state: WalkState, path: str, depth: int):
        name = self.auto_name(node)
        h, w, c = self.spatial(node, name, state.shape)
        rf = (whole_input_field(state.rf_h, h), whole_input_field(state.rf_w, w))
        return self.add_row(node, name, path, depth, state, (1, 1, c), rf,
                            hyper=f"{node.mode} over {h}x{w}")

    def visit_adaptive_pool(self, node: layers.AdaptivePool, state: WalkState, path: str,
                            depth: int):
        name = self.auto_name(node)
        h, w, c = self.spatial(node, name, state.shape)
        assert node.output is not None
        oh, ow = node.output
        kh, kw = -(-h // oh), -(-w // ow)
        rf = (next_field(state.rf_h, kh, max(1, h // oh)), next_field(state.rf_w, kw,
                                                                       max(1, w // ow)))
        return self.add_row(node, name, path, depth, state, (oh, ow, c), rf,
                            hyper=f"avg to {oh}x{ow}")

    def visit_fc(self, node: layers.FC, state: WalkState, path: str, depth: int):
        name = self.auto_name(node)
        assert node.units is not None
        n_in = counts.nodes(state.shape)
        bias = self.conventions.fc_bias if node.bias is None else node.bias
        weights = counts.fc_weights(n_in, node.units)
        biases = node.units if bias else 0
        if len(state.shape) == 3:
            rf = (whole_input_field(state.rf_h, state.shape[0]),
                  whole_input_field(state.rf_w, state.shape[1]))
        else:
            rf = (state.rf_h, state.rf_w)
        in_text = "x".join(map(str, state.shape))
        formulas = {
            "params": f"({in_text}{' + 1' if bias else ''})*{node.units} = {weights + biases:,}",
            "macs": f"{n_in:,}*{node.units} = {weights:,}",
            "nodes": f"{node.units:,}",
        }
        return self.add_row(node, name, path, depth, state, (node.units,), rf,
                            hyper=f"{n_in:,} -> {node.units:,}" + ("" if bias else ", no bias"),
                            weights=weights, biases=biases, macs=weights, formulas=formulas)

    def visit_flatten(self, node: layers.Flatten, state: WalkState, path: str, depth: int):
        name = self.auto_name(node)
        n = counts.nodes(state.shape)
        rf = (state.rf_h, state.rf_w)
        if len(state.shape) == 3:
            rf = (whole_input_field(state.rf_h, 1), whole_input_field(state.rf_w, 1))
        return self.add_row(node, name, path, depth, state, (n,), rf,
                            hyper=f"{shape_text(state.shape)} -> {n:,}")

    def _same_shape(self, node: Any, state: WalkState, path: str, depth: int, hyper: str = "",
                    non_trainable: int = 0, weights: int = 0, biases: int = 0):
        name = self.auto_name(node)
        return self.add_row(node, name, path, depth, state, state.shape,
                            (state.rf_h, state.rf_w), hyper=hyper, weights=weights,
                            biases=biases, non_trainable=non_trainable)

    def visit_relu(self, node, state, path, depth):
        return self._same_shape(node, state, path, depth)

    visit_sigmoid = visit_tanh = visit_softmax = visit_relu

    def visit_activation(self, node: Any, state: WalkState, path: str, depth: int):
        """An activation of the table: same shape; PReLU holds 1 or C learned slopes."""
        name = self.auto_name(node)
        weights, hyper = 0, settings_text(node)
        if ACTIVATION_ENTRIES[node.kind].learned:
            c = state.shape[-1]
            if node.num_parameters not in (1, c):
                raise self.fail(node, name, f"num_parameters={node.num_parameters} must be 1 "
                                f"(one shared slope) or the {c} input channels (one slope per "
                                f"channel)", f"write {node.type_name}(1) or "
                                f"{node.type_name}({c})", "num_parameters")
            weights = node.num_parameters
            hyper = "1 shared slope" if weights == 1 else f"{c} slopes (per channel)"
        return self.add_row(node, name, path, depth, state, state.shape,
                            (state.rf_h, state.rf_w), hyper=hyper, weights=weights)

    def visit_dropout(self, node: layers.Dropout, state: WalkState, path: str, depth: int):
        return self._same_shape(node, state, path, depth, hyper=f"p={node.p:g}")

    def visit_lrn(self, node: layers.LRN, state: WalkState, path: str, depth: int):
        hyper = f"n={node.size}, k={node.k:g}, alpha={node.alpha:g}, beta={node.beta:g}"
        return self._same_shape(node, state, path, depth, hyper=hyper)

    def visit_batchnorm(self, node: layers.BatchNorm, state: WalkState, path: str, depth: int):
        c = state.shape[-1]
        trainable, running = counts.batchnorm_params(c)
        name = self.auto_name(node)
        formulas = {"params": f"gamma {c} + beta {c} = {trainable:,}",
                    "non_trainable": f"running mean {c} + running variance {c} = {running:,}"}
        return self.add_row(node, name, path, depth, state, state.shape,
                            (state.rf_h, state.rf_w), hyper=f"{c} channels",
                            weights=trainable // 2, biases=trainable // 2,
                            non_trainable=running, formulas=formulas)

    def visit_expect(self, node: layers.Expect, state: WalkState, path: str, depth: int):
        if tuple(node.shape) != tuple(state.shape):
            raise AnalysisError(
                f"the string says the data is {shape_text(node.shape)} here, but it is "
                f"{shape_text(state.shape)}",
                self.where(node),
                "check the layer before it, or correct the written shape",
            )
        self.notes.append(Note(None, f"written shape {shape_text(node.shape)} checked: it matches",
                               "shape"))
        return state
