// SPDX-License-Identifier: MIT
// Test-only: forwards the ETH it is sent to an address (an "internal transfer": the coins reach
// the address from a contract call, in no log and in no transaction's value). The deposit
// scanner's test compiles it offline with solc-js (scripts/compile-contracts.ts compileContract).
pragma solidity ^0.8.20;

contract EthForwarder {
    function forward(address payable to) external payable {
        (bool ok, ) = to.call{value: msg.value}("");
        require(ok, "forward failed");
    }

    /// Sends half to `to` and tries to send the rest to `reverter`, whose failure is swallowed:
    /// only the first internal transfer happened.
    function split(address payable to, address payable reverter) external payable {
        (bool ok, ) = to.call{value: msg.value / 2}("");
        require(ok, "forward failed");
        (bool ignored, ) = reverter.call{value: msg.value - msg.value / 2}("");
        ignored;
    }
}
