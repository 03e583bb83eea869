"""The execution of a scenario: one module per actor, wired by :mod:`sim.model.world`.

A family's journey: :mod:`population` draws its size and when it first tries to reach the
gates, and whether checkpoints turn it back on the way (:mod:`access`); :mod:`perimeter` puts it
in a gate crowd, screens it in a lane (or sees it give up and come back) and into the queue of
:mod:`holding`, the holding area, where it waits until an aircraft boards it. Gates, lanes and
holding queues are one compiled state (:mod:`perimeter_core`, which owns its layout): the
perimeter advances it, the holding area boards from it.

An aircraft's sortie (:mod:`fleet`): crew duty at the staging base, a parking spot from
:mod:`ramp`, a landing slot from :mod:`runway`, chalks of passengers from :mod:`holding`,
room at a staging base from :mod:`staging`, a take-off slot, the flight out and the
turnaround. :mod:`timeline` compiles the window, the lead times and every disruption into
schedules the others read. Only :mod:`world` knows all of them: each actor declares what it needs
of another as a ``Protocol`` and ``world`` hands it the object. The population owns each family's
status (its methods write it, except entering the holding area and boarding, which the compiled
state writes on its behalf); every actor appends facts to the shared records of :mod:`sim.model.records`.
"""
