"""``tfx.components``: the module paths older module files import ``FnArgs`` and ``TunerFnResult`` from."""
