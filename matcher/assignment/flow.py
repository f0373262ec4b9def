"""One min-cost flow in OR-Tools (``SimpleMinCostFlow``, cost-scaling push-relabel).

Imports only numpy and OR-Tools: :mod:`.plain` calls it in-process, and ``highs_worker.py`` (run as a
plain script from this folder) calls it for a flow request in a worker process that can be killed at a
deadline (the call cannot be interrupted).
"""

import numpy as np


def solve_network(request):
    """Solve the network of a flow request (a dict of numpy arrays, see :func:`.plain.network`).

    Returns
    -------
    tuple
        ``("optimal", cost, flow)`` with the minimum total cost (int) and the flow on the first
        ``n_flows`` arcs (the lead–partner arcs), or ``("failed", status name, None)`` when OR-Tools
        could not solve it (e.g. costs out of its range).
    """
    from ortools.graph.python import min_cost_flow  # 0.4 s to import: only when a flow is solved
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(request["tails"], request["heads"], request["capacities"],
                                                request["costs"])
    supplies = request["supplies"]
    solver.set_nodes_supplies(np.arange(len(supplies)), supplies)
    status = solver.solve()
    if status != solver.OPTIMAL:
        return ("failed", status.name, None)
    return ("optimal", int(solver.optimal_cost()), solver.flows(np.arange(request["n_flows"])))
