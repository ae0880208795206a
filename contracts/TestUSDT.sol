// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title A test stand-in for USDT on the local dev chain and in tests: 6 decimals, minted by
/// its owner. Never deployed anywhere but a development chain.
contract TestUSDT is ERC20, Ownable {
    constructor(address initialOwner) ERC20("Test Tether USD", "USDT") Ownable(initialOwner) {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
